/**
 * The daemon's event log (`GET /events`): what happened to containers, images
 * and volumes, kept in a ring for `since` and fanned out to live listeners.
 */

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon';

export interface DockerEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Legacy fields that old clients read. */
  status?: string;
  id?: string;
  from?: string;
}

type Listener = (e: DockerEvent) => void;

export class EventLog {
  private ring: DockerEvent[] = [];
  private listeners = new Set<Listener>();

  constructor(private readonly capacity = 1000) {}

  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): DockerEvent {
    const nowMs = Date.now();
    const e: DockerEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(nowMs / 1000),
      timeNano: nowMs * 1_000_000,
    };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Past events at or after `sinceNano`. */
  past(sinceNano: number): DockerEvent[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** Docker's `filters` for events: type, event/action, container, image, volume, label. */
export function eventMatches(e: DockerEvent, filters: Record<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !filters[key]?.length || filters[key]!.some(test);
  return (
    any('type', (v) => v === e.Type) &&
    any('event', (v) => v === e.Action || e.Action.startsWith(`${v}:`)) &&
    any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
    any('image', (v) => (e.Type === 'image' && (e.Actor.ID === v || e.Actor.Attributes.name === v)) || e.Actor.Attributes.image === v) &&
    any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v) &&
    any('network', (v) => e.Type === 'network' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
    any('scope', (v) => v === 'local') &&
    any('label', (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
    })
  );
}
