// The sign-in view an anonymous visitor sees: a key file chosen in the browser, or a
// one-time login link. Until then the page shows nothing but the node's chain head (the
// one thing the node tells anyone).
import { ApiError, card, el, getJson, short } from "./api.js";
import { KeyFileError, LOGIN_LINK_HELP, loginCodeIn, signInWithCode, signInWithKeyFile } from "./auth.js";

function explain(error) {
  if (error instanceof KeyFileError) return error.message;
  if (error instanceof ApiError) {
    return error.status === 0 ? error.message : `The node refused to sign you in: ${error.message} (${error.code})`;
  }
  return `Signing in failed: ${error.message}`;
}

/** Show the sign-in view in `root`, with `message` (why it is shown) above it. */
export function showSignIn(root, message = null, kind = "info") {
  const status = el("div", { id: "signin-message", role: "status", "aria-live": "polite" });
  const say = (text, how) =>
    status.replaceChildren(text ? el("p", { class: how === "error" ? "error" : "notice-box" }, text) : "");
  say(message, kind);

  const fileInput = el("input", { id: "key-file", type: "file", accept: ".key,application/json" });
  const codeInput = el("input", { id: "login-link", type: "text", size: 50, placeholder: "paste the login link or its code", autocomplete: "off" });
  const busy = (on) => {
    fileInput.disabled = on;
    codeInput.disabled = on;
    for (const button of root.querySelectorAll("#signin button")) button.disabled = on;
  };
  async function attempt(run, working) {
    busy(true);
    say(working, "info");
    try {
      await run(); // success: the session's "begun" event takes the page to the dashboard
    } catch (error) {
      say(explain(error), "error");
    } finally {
      busy(false);
    }
  }

  fileInput.addEventListener("change", () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = ""; // let go of the File: its text is read once, in memory
    if (file) attempt(() => signInWithKeyFile(file), `Signing the node's challenge with ${file.name}…`);
  });
  const codeForm = el("form", { class: "search", id: "login-form" }, codeInput, el("button", { type: "submit" }, "Sign in"));
  codeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = loginCodeIn(codeInput.value);
    codeInput.value = "";
    if (!code) say("That is not a login link: it ends in #login=CODE.", "error");
    else attempt(() => signInWithCode(code), "Signing in with the login link…");
  });

  const head = el("p", { class: "muted", id: "signin-head" }, "Asking the node for its chain head…");
  getJson("/v1/head").then(
    (h) => head.replaceChildren(`The node at ${location.host} is up, at block ${h.height}${h.hash ? ` (hash ${short(h.hash, 16)})` : ""}.`),
    (error) => head.replaceChildren(error instanceof ApiError && error.status === 0 ? error.message : ""),
  );

  root.replaceChildren(
    el("div", { class: "page", "data-page": "signin", id: "signin" },
      el("h1", {}, "Sign in"),
      el("p", {}, "This community's data is for its members: sign in with your key to see your account, orders, readings and statements, and the market's totals. The operator and the regulator see everything, as auditors."),
      status,
      el("div", { class: "grid" },
        card("With your key file",
          el("p", {}, "Choose your key file (", el("code", {}, "keys/NAME.key"), ")."),
          el("label", { class: "file" }, fileInput),
          el("p", { class: "muted" }, "The file is read in this page only: its seed signs the node's challenge and is wiped right after. It is never stored and never sent; the node receives your public key and the signature. Encrypted key files cannot be used in the browser: use a login link.")),
        card("With a login link",
          el("p", {}, "On a machine with your key, run"),
          el("pre", {}, LOGIN_LINK_HELP),
          el("p", {}, "and open the link it prints. A link works once, for a few minutes. Or paste it here:"),
          codeForm),
      ),
      head,
    ),
  );
}
