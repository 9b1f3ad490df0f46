// The live socket: connects, says what the page wants, reconnects with back-off (1 s doubling to
// 30 s, jittered), and tells the page its state. A socket that closes before `hello` may be a
// missing session: the API is asked (which signs in when needed) before the next attempt.
import { request } from "./api.js";

export class LiveSocket {
  constructor({ onMessage, onState }) {
    this.onMessage = onMessage; this.onState = onState;
    this.subscription = { kinds: ["event", "window", "spectrogram", "waveform", "status"], layers: [] };
    this.delay = 1000; this.ws = null; this.helloSeen = false; this.timer = null;
  }

  connect() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams({ kinds: this.subscription.kinds.join(","), layers: this.subscription.layers.join(",") });
    this.onState(this.ws ? "reconnecting" : "connecting");
    const ws = new WebSocket(`${scheme}://${location.host}/v1/live?${q}`);
    this.ws = ws; this.helloSeen = false;
    ws.onmessage = (e) => {
      const message = JSON.parse(e.data);
      if (message.type === "hello") {
        this.helloSeen = true; this.delay = 1000;
        this.onState("live");
        this.send();   // the subscription may have changed while connecting
      }
      this.onMessage(message);
    };
    ws.onclose = async (e) => {
      if (ws !== this.ws) return;
      if (!this.helloSeen) await request("/v1/status").catch(() => {});   // signs in if that was the problem
      const wait = Math.min(this.delay, 30000) * (0.8 + Math.random() * 0.4);
      this.delay = Math.min(this.delay * 2, 30000);
      this.onState("reconnecting", Math.round(wait / 1000), e.reason);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  /** Changes what arrives (kinds and the layers whose maps are on screen). */
  subscribe(kinds, layers) {
    this.subscription = { kinds, layers };
    this.send();
  }

  send() {
    if (this.ws?.readyState === WebSocket.OPEN && this.helloSeen) {
      this.ws.send(JSON.stringify({ type: "subscribe", ...this.subscription, max_rate: 0 }));
    }
  }
}
