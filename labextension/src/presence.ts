// Presence on a shared canvas (DESIGN.md D6): who is here, where each person points, what they selected, which
// tool they hold, and follow mode, all carried by the room's y-protocols Awareness. It never edits the document.
import type { Awareness } from "y-protocols/awareness";
import { el } from "./ui";

/** A person as Jupyter's `/api/me` names them (JupyterLab puts the same record in awareness as `user`). */
export interface Identity { username: string; name: string; display_name?: string; initials?: string; color: string }

/** What Presence needs of the view it decorates (the canvas implements it). */
export interface PresenceHost {
  readonly root: HTMLElement;
  viewport(): { zoom: number; ox: number; oy: number; width: number; height: number };
  setViewport(v: { zoom: number; cx: number; cy: number }): void;
  selected(): string | null;
  tool(): string;
  layerBounds(id: string): [number, number, number, number] | null;
  requestRender(): void;
}

/** The view's centre in document px and its zoom: what a follower needs to show the same place. */
export interface ViewportState { zoom: number; cx: number; cy: number }
/** Our field in each awareness state, next to JupyterLab's `user`. */
export interface ViewState { pointer: [number, number] | null; viewport: ViewportState; selected: string | null; tool: string }
interface PeerState { user?: Identity; imagestudio?: ViewState | null }

const FIELD = "imagestudio";
/** Pointer and pan updates go out at most once per animation frame and 20 times a second: y-websocket clients
 * echo every awareness update they receive, so each message costs about (people in the room)² deliveries. */
const MIN_SEND_INTERVAL_MS = 50;
/** Re-announcements for clients that appear together (a page joining sees everyone at once) go out once. */
const REANNOUNCE_DELAY_MS = 60;
/** Distinct on the grey stage and on white paper; picked by username so every page shows a person alike. */
const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0f9d9a", "#f032e6", "#9a6324", "#808000", "#000075"];
const GUEST_KEY = "imagestudio.guest-identity";

/** A stable colour for a username (FNV-1a hash into the palette). */
export function colourFor(username: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < username.length; i++) hash = Math.imul(hash ^ username.charCodeAt(i), 0x01000193);
  return PALETTE[(hash >>> 0) % PALETTE.length];
}

function initialsOf(name: string): string {
  const words = name.trim().split(/[\s._@-]+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

/** Fill the fields `/api/me` may leave empty (jupyter_server's default identity has no colour). */
function completeIdentity(raw: Partial<Identity> & { username: string }): Identity {
  const name = raw.display_name || raw.name || raw.username;
  return { ...raw, username: raw.username, name: raw.name || name, display_name: name,
           initials: raw.initials || initialsOf(name), color: raw.color || colourFor(raw.username) };
}

function pageConfig(): { baseUrl?: string; token?: string } | null {
  const script = document.getElementById("jupyter-config-data");
  if (!script?.textContent) return null;
  try { return JSON.parse(script.textContent); } catch { return null; }
}

/** The same guest across reloads of this browser, so a person without a Jupyter server keeps one chip. */
function guestIdentity(): Identity {
  try {
    const saved = JSON.parse(localStorage.getItem(GUEST_KEY) || "null");
    if (saved?.username) return completeIdentity(saved);
  } catch { /* storage unavailable (sandboxed frames): a guest for this page only */ }
  const id = Math.random().toString(36).slice(2, 6);
  const guest = completeIdentity({ username: `guest-${id}`, name: `Guest ${id.toUpperCase()}` });
  try { localStorage.setItem(GUEST_KEY, JSON.stringify(guest)); } catch { /* see above */ }
  return guest;
}

/** Who I am: `GET <baseUrl>api/me` with the page's token; a stable guest when no Jupyter server answers. */
export async function fetchIdentity(): Promise<Identity> {
  const config = pageConfig();
  if (config && typeof config.baseUrl === "string") {
    try {
      const headers: Record<string, string> = config.token ? { Authorization: `token ${config.token}` } : {};
      const reply = await fetch(new URL(`${config.baseUrl}api/me`, location.href), { headers, credentials: "same-origin" });
      const body = reply.ok ? await reply.json() : null;
      if (body?.identity?.username) return completeIdentity(body.identity);
    } catch { /* no server behind the page config: a guest */ }
  }
  return guestIdentity();
}

const resolvedColours = new Map<string, string>();
/** A colour a canvas can paint: JupyterLab gives `var(--jp-collaborator-colorN)` to users without one. */
function paintable(colour: string | undefined, username: string): string {
  if (!colour) return colourFor(username);
  const match = /^var\((--[\w-]+)\)$/.exec(colour.trim());
  if (!match) return colour;
  let value = resolvedColours.get(match[1]);
  if (value === undefined) {
    value = getComputedStyle(document.documentElement).getPropertyValue(match[1]).trim();
    resolvedColours.set(match[1], value);
  }
  return value || colourFor(username);
}

/** Black or white text, whichever reads on `colour` (hex colours; others get white). */
function textOn(colour: string): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour)?.[1];
  if (!hex) return "#fff";
  const full = hex.length === 3 ? hex.split("").map((c) => c + c).join("") : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

const STYLE_ID = "imagestudio-presence-style";
const STYLE = `
.is-presence { display: inline-flex; align-items: center; gap: 4px; min-height: 26px; }
.is-presence .is-presence-chip { width: 24px; height: 24px; border-radius: 50%; border: 2px solid transparent; padding: 0;
  font: 600 10px/20px system-ui, sans-serif; text-align: center; cursor: pointer; color: var(--is-text, #fff);
  background: var(--is-user); box-sizing: border-box; }
.is-presence .is-presence-chip[data-me] { cursor: default; box-shadow: 0 0 0 2px #fff, 0 0 0 3px var(--is-user); margin: 0 3px; }
.is-presence .is-presence-chip[data-following] { border-color: #fff; outline: 2px solid var(--is-user); outline-offset: 1px; }
.is-presence-following { font: 12px system-ui, sans-serif; padding: 2px 6px; border-radius: 10px;
  background: var(--is-user); color: var(--is-text, #fff); white-space: nowrap; }
.is-presence-following button { border: 0; background: none; color: inherit; cursor: pointer; padding: 0 0 0 4px; }
`;

function injectStyle(): void {
  if (document.getElementById(STYLE_ID)) return;
  document.head.append(el("style", { id: STYLE_ID, text: STYLE }));
}

interface Person { identity: Identity; colour: string; clients: number[]; tool: string; me: boolean }

/** Presence of everyone in a view's awareness: the bar, the overlays, follow mode and my own announcements. */
export class Presence {
  readonly bar: HTMLElement;
  private readonly chips = el("span", { class: "is-presence-chips" });
  private readonly followLabel = el("span", { class: "is-presence-following", "data-role": "following", hidden: true });
  private following: number | null = null;
  /** The viewport follow mode last set (read back from the host): any other viewport is my own pan or zoom. */
  private followed: ViewportState | null = null;
  private requested: ViewportState | null = null;
  private applying = false;
  private pointerAt: [number, number] | null = null;
  private sendFrame = 0;
  private sendTimer = 0;
  private lastSent = 0;
  private reannounceTimer = 0;
  private barKey = "";
  private disposed = false;

  constructor(private readonly awareness: Awareness, private readonly host: PresenceHost, me: Promise<Identity>) {
    injectStyle();
    this.bar = el("div", { class: "is-presence", "data-role": "presence" }, this.chips, this.followLabel);
    this.bar.addEventListener("click", this.onClick);
    awareness.on("change", this.onChange);
    // A page that goes away says so: the server does not tell the room, and awareness would keep showing me
    // for 30 s (its timeout). A page restored from the back-forward cache announces itself again.
    window.addEventListener("pagehide", this.withdraw);
    window.addEventListener("pageshow", this.onPageShow);
    this.publish();
    me.then((identity) => {
      // JupyterLab's own provider may have set `user` already (with the colour it shows elsewhere): keep it.
      if (this.disposed || this.awareness.getLocalState()?.user) return;
      this.awareness.setLocalStateField("user", identity);
      this.renderBar();
    }, () => undefined);
    this.renderBar();
  }

  /** The host calls this on pointermove (document px) and with nulls when the pointer leaves the stage. */
  pointer(docX: number | null, docY: number | null): void {
    this.pointerAt = docX === null || docY === null ? null : [Math.round(docX * 10) / 10, Math.round(docY * 10) / 10];
    this.schedulePublish();
  }

  /** The host calls this after zoom, pan, selection or tool changes. */
  viewChanged(): void {
    // The host applies setViewport synchronously; a viewport that is neither what I asked for nor what the host
    // made of it is my own pan or zoom, which ends follow mode.
    const mine = this.myViewport();
    if (this.following !== null && !this.applying && this.followed && !sameViewport(this.followed, mine) &&
        !(this.requested && sameViewport(this.requested, mine))) this.stopFollowing();
    this.schedulePublish();
    this.renderBar();
  }

  /** Remote selections and pointers, drawn in document coordinates (`ctx` carries the view transform). */
  drawOverlays(ctx: CanvasRenderingContext2D, zoom: number, dpr: number): void {
    const px = 1 / zoom;  // one screen pixel in document units
    ctx.save();
    ctx.setLineDash([]);
    for (const [, state] of this.peers()) {
      const view = state.imagestudio!;
      const colour = paintable(state.user!.color, state.user!.username);
      const bounds = view.selected ? this.host.layerBounds(view.selected) : null;
      if (bounds) {
        ctx.lineWidth = Math.max(1, Math.round(2 * dpr)) / dpr * px;
        ctx.strokeStyle = colour;
        ctx.strokeRect(bounds[0], bounds[1], bounds[2], bounds[3]);
        if (!view.pointer) {
          // The name tag sits above the outline, or just inside it when that would be off the top of the stage.
          const top = -this.host.viewport().oy / zoom;
          const y = bounds[1] - 18 * px >= top ? bounds[1] - 18 * px : bounds[1] + 2 * px;
          this.label(ctx, nameOf(state.user!), colour, bounds[0], y, px);
        }
      }
      if (view.pointer) this.cursor(ctx, state.user!, view, colour, px);
    }
    ctx.restore();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.awareness.off("change", this.onChange);
    clearTimeout(this.reannounceTimer);
    window.removeEventListener("pagehide", this.withdraw);
    window.removeEventListener("pageshow", this.onPageShow);
    this.bar.removeEventListener("click", this.onClick);
    this.bar.remove();
    this.withdraw();
  }

  /**
   * Withdraw only our field, so others drop my chip, pointer and selection at once. The whole state (and
   * `user`, which JupyterLab's provider may own) belongs to the transport: its dispose calls
   * setLocalState(null), and a transport that lives on (another view of the page) keeps announcing the user.
   */
  private withdraw = (): void => {
    cancelAnimationFrame(this.sendFrame);
    clearTimeout(this.sendTimer);
    this.sendFrame = this.sendTimer = 0;
    const state = this.awareness.getLocalState();
    if (state && FIELD in state) {
      const { [FIELD]: _withdrawn, ...rest } = state;
      this.awareness.setLocalState(rest);
    }
  };

  private onPageShow = (event: PageTransitionEvent): void => {
    if (event.persisted && !this.disposed) this.publish();
  };

  /** Remote clients with both a `user` and our field (JupyterLab's other awareness users draw nothing here). */
  private *peers(): Iterable<[number, PeerState]> {
    for (const [client, state] of this.awareness.getStates() as Map<number, PeerState>) {
      if (client !== this.awareness.clientID && state?.user?.username && state.imagestudio) yield [client, state];
    }
  }

  private myViewport(): ViewportState {
    const v = this.host.viewport();
    return { zoom: v.zoom, cx: (v.width / 2 - v.ox) / v.zoom, cy: (v.height / 2 - v.oy) / v.zoom };
  }

  private schedulePublish(): void {
    if (this.sendFrame || this.sendTimer || this.disposed) return;
    const wait = this.lastSent + MIN_SEND_INTERVAL_MS - performance.now();
    const frame = () => { this.sendTimer = 0; this.sendFrame = requestAnimationFrame(() => { this.sendFrame = 0; this.publish(); }); };
    if (wait > 0) this.sendTimer = window.setTimeout(frame, wait);
    else frame();
  }

  private publish(): void {
    if (this.disposed) return;
    this.lastSent = performance.now();
    const state: ViewState = { pointer: this.pointerAt, viewport: this.myViewport(), selected: this.host.selected(),
                               tool: this.host.tool() };
    this.awareness.setLocalStateField(FIELD, state);
  }

  /** Stock servers do not replay presence to a joining client: say again who I am when someone new appears. */
  private reannounce(): void {
    if (this.reannounceTimer || this.disposed) return;
    this.reannounceTimer = window.setTimeout(() => {
      this.reannounceTimer = 0;
      const state = this.awareness.getLocalState();
      if (state !== null && !this.disposed) this.awareness.setLocalState(state);  // same state, new clock: sent
    }, REANNOUNCE_DELAY_MS);
  }

  private onChange = ({ added, updated }: { added: number[]; updated: number[]; removed: number[] },
                      origin: unknown): void => {
    if (added.some((client) => client !== this.awareness.clientID)) this.reannounce();
    // The followed person left, or their view withdrew its presence (closed): nothing to follow any more.
    if (this.following !== null && !(this.awareness.getStates().get(this.following) as PeerState | undefined)?.imagestudio) {
      this.stopFollowing();
    }
    if (this.following !== null && (added.includes(this.following) || updated.includes(this.following))) this.follow();
    this.renderBar();
    if (origin !== "local") this.host.requestRender();
  };

  private onClick = (event: MouseEvent): void => {
    const target = event.target as HTMLElement;
    if (target.closest("[data-action='stop-following']")) { this.stopFollowing(); return; }
    const chip = target.closest<HTMLElement>(".is-presence-chip");
    if (!chip || chip.dataset.me !== undefined) return;
    const person = this.people().find((p) => p.identity.username === chip.dataset.user);
    if (!person) return;
    if (this.following !== null && person.clients.includes(this.following)) { this.stopFollowing(); return; }
    this.following = person.clients[0];
    this.followed = null;
    this.follow();
    this.renderBar();
  };

  /** Show what the followed client shows: its centre and zoom. */
  private follow(): void {
    const state = this.awareness.getStates().get(this.following!) as PeerState | undefined;
    const target = state?.imagestudio?.viewport;
    if (!target) return;
    this.requested = target;
    if (sameViewport(target, this.myViewport())) { this.followed = this.myViewport(); return; }
    this.applying = true;
    try { this.host.setViewport(target); } finally { this.applying = false; }
    this.followed = this.myViewport();  // what the host made of it (it may clamp the zoom)
    this.schedulePublish();
  }

  private stopFollowing(): void {
    if (this.following === null) return;
    this.following = null;
    this.followed = this.requested = null;
    this.renderBar();
  }

  /** One entry per username (a person may have several views), me first, then by name. */
  private people(): Person[] {
    const byName = new Map<string, Person>();
    const mine = this.awareness.getLocalState() as PeerState | null;
    const add = (client: number, state: PeerState, me: boolean) => {
      const user = state.user!;
      let person = byName.get(user.username);
      if (!person) {
        person = { identity: completeIdentity(user), colour: paintable(user.color, user.username),
                   clients: [], tool: "", me };
        byName.set(user.username, person);
      }
      person.me ||= me;
      if (!me) person.clients.push(client);
      person.tool = state.imagestudio?.tool || person.tool;
    };
    if (mine?.user?.username) add(this.awareness.clientID, mine, true);
    for (const [client, state] of this.peers()) add(client, state, false);
    return [...byName.values()].sort((a, b) => Number(b.me) - Number(a.me) || nameOf(a.identity).localeCompare(nameOf(b.identity)));
  }

  private renderBar(): void {
    if (this.disposed) return;
    const people = this.people();
    const followed = people.find((p) => this.following !== null && p.clients.includes(this.following)) || null;
    const key = JSON.stringify([people.map((p) => [p.identity.username, nameOf(p.identity), p.colour, p.tool, p.me]),
                                followed?.identity.username]);
    if (key === this.barKey) return;
    this.barKey = key;
    this.chips.replaceChildren(...people.map((p) => el("button", {
      type: "button", class: "is-presence-chip", "data-user": p.identity.username, "data-tool": p.tool,
      "data-colour": p.colour, "data-me": p.me ? "1" : null, "data-following": p === followed ? "1" : null,
      title: `${nameOf(p.identity)}${p.me ? " (you)" : ""}${p.tool ? ` · ${p.tool}` : ""}` +
             (p.me ? "" : p === followed ? " · click to stop following" : " · click to follow"),
      style: `--is-user: ${p.colour}; --is-text: ${textOn(p.colour)}`,
    }, p.identity.initials || initialsOf(nameOf(p.identity)))));
    this.followLabel.hidden = !followed;
    this.bar.toggleAttribute("data-following", !!followed);
    if (followed) {
      this.followLabel.style.cssText = `--is-user: ${followed.colour}; --is-text: ${textOn(followed.colour)}`;
      this.followLabel.replaceChildren(`Following ${nameOf(followed.identity)}`,
        el("button", { type: "button", "data-action": "stop-following", title: "Stop following", text: "×" }));
    }
  }

  private cursor(ctx: CanvasRenderingContext2D, user: Identity, view: ViewState, colour: string, px: number): void {
    const [x, y] = view.pointer!;
    ctx.save();
    ctx.translate(x, y);
    ctx.scale(px, px);  // the arrow keeps its screen size at any zoom
    ctx.beginPath();
    ctx.moveTo(0, 0); ctx.lineTo(0, 17); ctx.lineTo(4.5, 13); ctx.lineTo(8, 20.5);
    ctx.lineTo(11, 19.2); ctx.lineTo(7.6, 12); ctx.lineTo(13, 12); ctx.closePath();
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.restore();
    this.label(ctx, `${nameOf(user)}${view.tool ? ` · ${view.tool}` : ""}`, colour, x + 12 * px, y + 20 * px, px);
  }

  private label(ctx: CanvasRenderingContext2D, text: string, colour: string, x: number, y: number, px: number): void {
    ctx.save();
    ctx.translate(x, y);
    ctx.scale(px, px);
    ctx.font = "12px system-ui, sans-serif";
    const width = ctx.measureText(text).width + 10;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.roundRect(0, 0, width, 18, 4);
    ctx.fill();
    ctx.fillStyle = textOn(colour);
    ctx.textBaseline = "middle";
    ctx.fillText(text, 5, 9.5);
    ctx.restore();
  }
}

function nameOf(user: Identity): string {
  return user.display_name || user.name || user.username;
}

function sameViewport(a: ViewportState, b: ViewportState): boolean {
  const tolerance = 1 / Math.max(a.zoom, b.zoom);  // one screen pixel
  return Math.abs(a.zoom - b.zoom) <= 1e-3 * a.zoom && Math.abs(a.cx - b.cx) <= tolerance && Math.abs(a.cy - b.cy) <= tolerance;
}
