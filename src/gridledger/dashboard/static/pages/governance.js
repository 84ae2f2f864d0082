// Governance: the community's proposals with their ballots so far, deadlines, recorded
// tallies and the regulator's vetoes (GET /v1/governance/proposals), beside the currency's
// supply report (issued = live + expired + burned) and the signed-in member's certificates
// of origin with its hour-by-hour (24/7) matching score. A page of its own: app.js only
// lists it.
import { card, el, getJson, getOptional, kwh, short, stat, table, units, utc } from "../api.js";

const HOUR_MS = 3_600_000;

/** "closes in 2 h 5 min" / "closed": a deadline against the chain head's time (ms). */
function remaining(deadlineMs, nowMs) {
  const left = deadlineMs - nowMs;
  if (left <= 0) return "closed";
  const hours = Math.floor(left / HOUR_MS);
  const minutes = Math.ceil((left % HOUR_MS) / 60_000);
  return `closes in ${hours ? `${hours} h ` : ""}${minutes} min`;
}

const yesNo = (value) => (value ? "yes" : "no");

function tallyText(tally) {
  if (!tally) return "not counted";
  return `${tally.yes} yes, ${tally.no} no, ${tally.abstain} abstain of ${tally.electorate}; quorum ${yesNo(tally.quorum_reached)}, majority ${yesNo(tally.majority_reached)} (block ${tally.height})`;
}

function subjectText(proposal, names) {
  if (proposal.kind === "parameters") {
    const changes = Object.entries(proposal.changes).map(([k, v]) => `${k}=${v}`).join(", ");
    return `${changes} from period ${proposal.from_period}`;
  }
  if (!proposal.subject) return "—";
  return names.get(proposal.subject) || short(proposal.subject, 12);
}

function proposalsTable(listed, names) {
  return table(
    ["#", "kind", "subject", "text", "proposed by", "deadline", "yes", "no", "abstain", "of", "tally", "status"],
    listed.proposals.map((p) => [
      String(p.proposal_id),
      p.kind,
      subjectText(p, names),
      p.text || "—",
      names.get(p.proposer) || short(p.proposer, 12),
      el("span", { title: `block time ${p.deadline_ms} ms` }, `${utc(p.deadline_ms)} (${remaining(p.deadline_ms, listed.now_ms)})`),
      String(p.yes),
      String(p.no),
      String(p.abstain),
      String(p.electorate),
      tallyText(p.tally),
      el("span", { class: `status ${p.status}` }, p.reason ? `${p.status}: ${p.reason}` : p.status),
    ]),
    { id: "proposals" },
  );
}

function rulesCard(rules) {
  return card(
    "Voting rules",
    el("div", { class: "stats", id: "rules" },
      stat("quorum", `${rules.quorum_percent}%`, "of the active members must vote"),
      stat("majority", `over ${rules.majority_percent}%`, "of yes and no"),
      stat("longest vote", `${Math.round(rules.max_voting_ms / 86_400_000)} days`),
      stat("founding phase", yesNo(rules.founding_phase), rules.founding_phase ? "the regulator may still admit alone" : "only the members' vote admits"),
    ),
  );
}

function vetoesCard(listed, names) {
  const vetoed = listed.proposals.filter((p) => p.status === "vetoed");
  return card(
    "The regulator's vetoes",
    table(
      ["#", "applicant", "reason"],
      vetoed.map((p) => [String(p.proposal_id), subjectText(p, names), p.reason]),
      { id: "vetoes" },
    ),
    el("p", { class: "muted" }, "The regulator audits applications and may veto an admission with a recorded reason; it never admits alone."),
  );
}

function supplyCard(supply) {
  if (!supply) return null;
  return card(
    "Currency supply",
    el("div", { class: "stats", id: "supply" },
      stat("issued", units(supply.issued_micro)),
      stat("live", units(supply.live_micro), supply.past_life_micro
        ? `held in balances; ${units(supply.past_life_micro)} of it past its life, returned at the next settlement`
        : "held in balances"),
      stat("expired", units(supply.expired_micro), "returned to the issuer"),
      stat("burned", units(supply.burned_micro)),
      stat("lifetime", supply.lifetime_days ? `${supply.lifetime_days} days` : "no expiry"),
      stat("reconciles", supply.reconciles ? "yes: issued = live + expired + burned" : "NO"),
    ),
  );
}

function certificatesCard(mine, report) {
  if (!mine || !mine.enabled) {
    return card("Certificates of origin", el("p", { class: "muted", id: "certificates" }, "This community issues no certificates."));
  }
  const held = mine.holdings.reduce((sum, h) => sum + h.energy_wh, 0);
  const totals = mine.totals;
  return card(
    "Certificates of origin",
    el("div", { class: "stats", id: "certificates" },
      stat("24/7 matching score", report ? `${(report.matching_score_bp / 100).toFixed(2)}%` : "—",
        report ? `${kwh(report.matched_wh)} of ${kwh(report.consumed_wh)} consumed, matched hour by hour` : null),
      stat("you hold", kwh(held), `${mine.holdings.length} certificates`),
      stat("your claims", String(mine.claims.length), "retired with a beneficiary and a purpose"),
      stat("certified in the community", kwh(totals.certified_wh), `${kwh(totals.to_buyers_wh)} went to buyers, ${kwh(totals.retired_wh)} retired`),
    ),
    el("p", { class: "muted" }, "The score is EnergyTag's hourly matching: consumption covered by certificates of the same hour, over all consumption."),
  );
}

export async function mount({ body, session }) {
  const view = el("div", { class: "grid" });
  body.replaceChildren(el("h1", {}, "Governance"), view);

  async function refresh() {
    const me = session ? session.address : "";
    const [listed, members, supply, mine, report] = await Promise.all([
      getJson("/v1/governance/proposals"),
      getOptional("/v1/members", { members: [] }),
      getOptional("/v1/currency/supply"),
      me ? getOptional(`/v1/certificates/${me}`) : null,
      me ? getOptional(`/v1/certificates/${me}/report`) : null,
    ]);
    const names = new Map((members ? members.members : []).map((m) => [m.address, m.name]));
    view.replaceChildren(
      card(
        "Proposals",
        proposalsTable(listed, names),
        el("p", { class: "muted" }, `Deadlines are block times; the chain's time is ${utc(listed.now_ms)}. Ballots are counted by the contract once the deadline has passed.`),
      ),
      rulesCard(listed.rules),
      vetoesCard(listed, names),
      supplyCard(supply),
      certificatesCard(mine, report),
    );
  }

  await refresh();
  return { refresh };
}
