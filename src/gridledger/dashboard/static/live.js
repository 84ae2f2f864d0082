// The node's live stream (WS /v1/stream): committed blocks as they come. It says when the
// connection is lost and reconnects with a growing delay (1 s, 2 s, 4 s, then every 5 s).
// It connects with the session's token (?token=, as browsers cannot set headers on a
// WebSocket); the node filters the blocks to what the signed-in member may see.
import { bearer } from "./session.js";

/** Close codes by which the node refuses the token (a policy violation, or 4401/4403). */
const REFUSED = new Set([1008, 4001, 4003, 4401, 4403]);

export class LiveStream extends EventTarget {
  constructor(statusElement) {
    super();
    this.status = statusElement;
    this.attempts = 0;
    this.height = null;
    this.socket = null;
    this.timer = null;
    this.everOpen = false;
    this.running = false;
  }

  start() {
    this.running = true;
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const token = bearer();
    const query = token ? `?token=${encodeURIComponent(token)}` : "";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/v1/stream${query}`);
    } catch (error) {
      this.lost(error.message);
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const reconnected = this.everOpen;
      this.attempts = 0;
      this.everOpen = true;
      this.show("live", "live");
      if (reconnected) this.dispatchEvent(new CustomEvent("reconnected"));
      else this.dispatchEvent(new CustomEvent("connected"));
    });
    socket.addEventListener("message", (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "hello") this.height = data.height;
      if (data.type === "block") this.height = data.header.height;
      this.show("live", `live · block ${this.height}`);
      if (data.type === "block") this.dispatchEvent(new CustomEvent("block", { detail: data }));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (REFUSED.has(event.code)) {
        this.running = false;
        this.show("offline", `the node refused the session (${event.reason || event.code})`);
        this.dispatchEvent(new CustomEvent("refused", { detail: event.reason || `code ${event.code}` }));
        return;
      }
      this.lost(event.reason || `closed (code ${event.code})`);
    });
  }

  /** Close the stream and stop reconnecting (on sign-out). */
  stop() {
    this.running = false;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    this.attempts = 0;
    this.everOpen = false;
    this.height = null;
    if (socket) socket.close(1000, "signed out");
    this.show("", "signed out");
  }

  lost(reason) {
    const delay = Math.min(5, 2 ** this.attempts);
    this.attempts += 1;
    this.show(
      "offline",
      `connection to the node lost (${reason}); reconnecting in ${delay} s (attempt ${this.attempts})`,
    );
    this.dispatchEvent(new CustomEvent("lost"));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.running) this.start();
    }, delay * 1000);
  }

  show(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }
}
