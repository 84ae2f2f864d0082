// The node's live stream (WS /v1/stream): committed blocks as they come. It says when the
// connection is lost and reconnects with a growing delay (1 s, 2 s, 4 s, then every 5 s).

export class LiveStream extends EventTarget {
  constructor(statusElement) {
    super();
    this.status = statusElement;
    this.attempts = 0;
    this.height = null;
    this.socket = null;
    this.timer = null;
    this.everOpen = false;
  }

  start() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/v1/stream`);
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
      this.lost(event.reason || `closed (code ${event.code})`);
    });
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
    this.timer = setTimeout(() => this.start(), delay * 1000);
  }

  show(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }
}
