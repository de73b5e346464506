/**
 * The member list: what this peer believes about every member of the cluster, itself included.
 *
 * A pure state machine in the manner of memberlist's `state.go` (`aliveNode`, `suspectNode`,
 * `deadNode`, `refute`): gossip and local decisions go in through {@link MemberList.apply} and the
 * helpers, changes come out as typed events. It owns no timers and does no I/O; the failure
 * detector drives suspicion and the peer broadcasts what changed.
 */
import { EventEmitter } from 'eventemitter3';
import { isInRing, supersedes, type MemberRecord } from './member.js';

/** Payload of the `member:*` events: the record now held and the one it replaced, if any. */
export interface MemberChange {
  member: MemberRecord;
  previous?: MemberRecord;
}

/**
 * Events of a {@link MemberList}. Every accepted change fires its specific event first, then
 * `member:update`. The peer derives ring changes from `member:join`, `member:dead` and `member:leave`.
 */
export interface MemberListEvents {
  /**
   * A member enters the ring view (alive or suspect) from outside it: it was unknown, dead, left,
   * or known only by an older generation (a restart; `previous` is then the old process's record).
   * Normally the new state is `alive`; a member first heard of as `suspect` joins in that state and
   * `member:suspect` follows.
   */
  'member:join': (change: MemberChange) => void;
  /** A suspect of the same generation was refuted: it is alive again at a higher incarnation. */
  'member:alive': (change: MemberChange) => void;
  /** A member became suspect, or was suspected again at a higher incarnation. */
  'member:suspect': (change: MemberChange) => void;
  /** A member was declared dead (by gossip or by this peer's suspicion timeout). */
  'member:dead': (change: MemberChange) => void;
  /** A member left gracefully; fired for this peer too when {@link MemberList.leave} is called. */
  'member:leave': (change: MemberChange) => void;
  /** Any accepted change to a member's record, fired after the specific event. */
  'member:update': (change: MemberChange) => void;
  /**
   * Someone claimed this peer is suspect, dead or left; the list raised its own incarnation and
   * stays alive. Payload: the new self record, which the caller must broadcast (SWIM section 4.2).
   * Not followed by `member:update`: no member changed state.
   */
  'self:refute': (self: MemberRecord) => void;
}

/** Options of a {@link MemberList}. */
export interface MemberListOptions {
  /** Clock in ms used to time-stamp state changes for {@link MemberList.reap}. Default `Date.now`. */
  now?: () => number;
  /** How long dead and left members are remembered, in ms (`PeerConfig.deadMemberRetentionMs`). */
  retentionMs: number;
}

interface Entry {
  record: MemberRecord;
  /** When the record's state (or generation) last changed, from `options.now`. */
  changedAt: number;
}

function frozen(record: MemberRecord): MemberRecord {
  return Object.freeze({ id: record.id, url: record.url, state: record.state, incarnation: record.incarnation, generation: record.generation });
}

/**
 * The member list of one peer. Records handed out are frozen snapshots; the list replaces them on
 * change rather than mutating them, so callers may keep them.
 */
export class MemberList extends EventEmitter<MemberListEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly selfId: string;
  private readonly now: () => number;
  private readonly retentionMs: number;

  /**
   * @param self this peer's own record (normally `alive`, incarnation 0, generation = start time)
   * @param options.retentionMs how long dead/left members are kept before {@link reap} forgets them (ms)
   * @param options.now clock in ms (default `Date.now`)
   */
  constructor(self: MemberRecord, options: MemberListOptions) {
    super();
    this.selfId = self.id;
    this.now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs;
    this.entries.set(self.id, { record: frozen(self), changedAt: this.now() });
  }

  /** This peer's current record. */
  get self(): MemberRecord {
    return this.entries.get(this.selfId)!.record;
  }

  /** The record held about `id`, or undefined when the member is unknown (or was reaped). */
  get(id: string): MemberRecord | undefined {
    return this.entries.get(id)?.record;
  }

  /** Every record held, self and dead/left members included, sorted by id. */
  all(): MemberRecord[] {
    return [...this.entries.values()].map((e) => e.record).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Ids of the members that take part in placement (alive or suspect), self included while alive, sorted. */
  ringMembers(): string[] {
    const ids: string[] = [];
    for (const { record } of this.entries.values()) if (isInRing(record.state)) ids.push(record.id);
    return ids.sort();
  }

  /** Number of members in state `alive`, self included. */
  get aliveCount(): number {
    let count = 0;
    for (const { record } of this.entries.values()) if (record.state === 'alive') count++;
    return count;
  }

  /** Number of records held, self and dead/left members included. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Merges one record of gossip (or of a handshake or push-pull) about any member.
   * Returns true when local state changed.
   *
   * About another member, `record` replaces the known one when {@link supersedes} says so:
   *
   * | known \ incoming (same generation) | alive          | suspect      | dead         | left   |
   * |------------------------------------|----------------|--------------|--------------|--------|
   * | unknown                            | yes (join)     | yes (join)   | yes (kept)   | yes    |
   * | alive, incarnation i               | inc > i        | inc >= i     | inc >= i     | yes    |
   * | suspect, incarnation i             | inc > i        | inc > i      | inc >= i     | yes    |
   * | dead, incarnation i                | inc > i (join) | no           | no           | yes    |
   * | left                               | no             | no           | no           | no     |
   *
   * A record of a higher generation always wins, over dead and left too (a restarted process
   * rejoins); a record of a lower generation is ignored. A new `url` is taken only with a record
   * these rules accept. Unknown dead/left members are kept so that older gossip cannot revive them
   * until {@link reap} forgets them.
   *
   * About this peer (same generation): `suspect` or `dead` with an incarnation >= ours, or `left`
   * at any incarnation while we are not leaving, is refuted: our incarnation becomes
   * `max(theirs, ours) + 1`, we stay alive and `self:refute` carries the record to broadcast
   * (SWIM section 4.2; memberlist `refute`). Peers that already applied a false `left` keep it,
   * since left is final for a generation; only a restart brings this peer back for them. Records
   * about self of another generation, `alive` records, and anything once we have left are ignored.
   *
   * Events: see {@link MemberListEvents}.
   */
  apply(record: MemberRecord): boolean {
    if (record.id === this.selfId) return this.applyAboutSelf(record);
    const previous = this.entries.get(record.id)?.record;
    if (!supersedes(previous, record)) return false;
    this.commit(frozen(record), previous);
    return true;
  }

  /**
   * Local suspicion (the failure detector's probe failed): marks an `alive` member `suspect` at its
   * current incarnation. Returns the new record to gossip, or undefined when the member is unknown,
   * self, or not alive. Emits `member:suspect`, `member:update`.
   */
  suspect(id: string): MemberRecord | undefined {
    const previous = this.entries.get(id)?.record;
    if (id === this.selfId || previous === undefined || previous.state !== 'alive') return undefined;
    return this.commit(frozen({ ...previous, state: 'suspect' }), previous);
  }

  /**
   * Declares an alive or suspect member dead at its current incarnation (the suspicion timeout
   * expired). Returns the new record to gossip, or undefined when unknown, self, or already
   * dead/left. Emits `member:dead`, `member:update`.
   */
  markDead(id: string): MemberRecord | undefined {
    const previous = this.entries.get(id)?.record;
    if (id === this.selfId || previous === undefined || !isInRing(previous.state)) return undefined;
    return this.commit(frozen({ ...previous, state: 'dead' }), previous);
  }

  /**
   * Marks a member `left` at its current incarnation; for this peer's own id it is {@link leave}.
   * Returns the new record to gossip, or undefined when unknown or already left.
   * Emits `member:leave`, `member:update`.
   */
  markLeft(id: string): MemberRecord | undefined {
    if (id === this.selfId) return this.leave();
    const previous = this.entries.get(id)?.record;
    if (previous === undefined || previous.state === 'left') return undefined;
    return this.commit(frozen({ ...previous, state: 'left' }), previous);
  }

  /**
   * This peer leaves gracefully: self becomes `left` (final for this generation) and from then on
   * gossip about self is no longer refuted. Returns the record to broadcast, or undefined when
   * already left. Emits `member:leave`, `member:update` for self.
   */
  leave(): MemberRecord | undefined {
    const previous = this.self;
    if (previous.state === 'left') return undefined;
    return this.commit(frozen({ ...previous, state: 'left' }), previous);
  }

  /**
   * Forgets dead and left members whose state changed more than `retentionMs` ago, so they stop
   * being gossiped and exchanged; after that, old gossip about them would be accepted again (as
   * memberlist's `GossipToTheDeadTime` bounds how long it remembers the dead). Never forgets self.
   * Emits nothing. Returns the ids removed.
   */
  reap(): string[] {
    const cutoff = this.now() - this.retentionMs;
    const removed: string[] = [];
    for (const [id, entry] of this.entries) {
      if (id === this.selfId || isInRing(entry.record.state)) continue;
      if (entry.changedAt < cutoff) {
        this.entries.delete(id);
        removed.push(id);
      }
    }
    return removed;
  }

  private applyAboutSelf(record: MemberRecord): boolean {
    const self = this.self;
    // Another generation is either our previous process (stale) or another process claiming our
    // id, which the handshake's duplicate-id check settles; incarnations cannot.
    if (record.generation !== self.generation || self.state === 'left') return false;
    switch (record.state) {
      case 'alive':
        return false;
      case 'suspect':
      case 'dead':
        if (record.incarnation < self.incarnation) return false;
        break;
      case 'left':
        // A left about us is always false while we have not left; it is accepted at any
        // incarnation by others, so refute whatever its incarnation.
        break;
    }
    const refuted = frozen({ ...self, state: 'alive', incarnation: Math.max(record.incarnation, self.incarnation) + 1 });
    this.entries.get(this.selfId)!.record = refuted;
    this.emit('self:refute', refuted);
    return true;
  }

  private commit(member: MemberRecord, previous: MemberRecord | undefined): MemberRecord {
    const old = this.entries.get(member.id);
    const stateChanged = previous === undefined || previous.state !== member.state || previous.generation !== member.generation;
    this.entries.set(member.id, { record: member, changedAt: stateChanged || old === undefined ? this.now() : old.changedAt });

    const change: MemberChange = previous === undefined ? { member } : { member, previous };
    const joined =
      isInRing(member.state) && (previous === undefined || !isInRing(previous.state) || previous.generation < member.generation);
    if (joined) this.emit('member:join', change);
    switch (member.state) {
      case 'alive':
        if (!joined && previous?.state === 'suspect') this.emit('member:alive', change);
        break;
      case 'suspect':
        this.emit('member:suspect', change);
        break;
      case 'dead':
        this.emit('member:dead', change);
        break;
      case 'left':
        this.emit('member:leave', change);
        break;
    }
    this.emit('member:update', change);
    return member;
  }
}
