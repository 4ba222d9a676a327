// Signing on one vehicle link: which key the vehicle signs with, signing what we send, checking
// what comes in, and setting a key up on the vehicle (SETUP_SIGNING). SETUP_SIGNING has no answer
// of its own: the setup is done when a frame signed with the new key comes back.

import path from 'node:path';

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import type { CommandOutcome } from '../../core/types';
import { build, type IncomingFrame, type MavlinkEncoder } from './codec';
import { NOT_SENT, TIMEOUT } from './outcome';
import {
  checkSigningKey,
  frameSigner,
  isDisablingKey,
  MemorySigningClock,
  PersistentSigningClock,
  SignatureVerifier,
  type SigningClock,
  type SigningCounts,
  type SigningKeyStore,
  type SigningVerdict,
} from './signing';
import type { VehicleAddress } from './vehicle-model';

const log = createLogger('signing');

const DEFAULT_SETUP_RETRY_MS = 1000;
const DEFAULT_SETUP_ATTEMPTS = 5;
/** One warning per kind of refusal this often, so a flood of bad frames cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface LinkSigningOptions {
  /**
   * Keys by vehicle system id: a vehicle with a key here must sign everything, and keys set up
   * over the link are saved here. Without a store, keys live only as long as the link.
   */
  keyStore?: SigningKeyStore;
  /**
   * Where our timestamps come from. By default a clock persisted beside the key store, or one
   * in memory when there is no store.
   */
  clock?: SigningClock;
  /** The link id in our signatures (0 to 255); several links to one vehicle need different ids. */
  linkId?: number;
  /** SETUP_SIGNING is sent again after this long without a frame signed with the new key. */
  setupRetryMs?: number;
  setupAttempts?: number;
}

export type SigningState = 'off' | 'setting-up' | 'on' | 'turning-off';

export interface SigningStatus {
  state: SigningState;
  /** Frames from the vehicle checked, and refused by kind. */
  counts: SigningCounts;
}

interface Pending {
  /** The key being set up, or null when signing is being turned off. */
  key: Buffer | null;
  confirm: () => void;
  /** Gives up without confirmation, for example when the link closes. */
  abort: () => void;
}

export class LinkSigning {
  private readonly verifier: SignatureVerifier;
  private readonly linkId: number;
  private activeKey: Buffer | null = null;
  private pending: Pending | null = null;
  private clockInstance: SigningClock | null;
  private readonly refusalsLoggedMs = new Map<SigningVerdict, number>();
  private disposed = false;

  constructor(
    private readonly options: LinkSigningOptions,
    private readonly encoder: MavlinkEncoder,
    private readonly send: (message: MavLinkData) => void,
    private readonly vehicle: () => VehicleAddress | null,
  ) {
    this.linkId = options.linkId ?? 0;
    if (!Number.isInteger(this.linkId) || this.linkId < 0 || this.linkId > 255) {
      throw new Error(`signing linkId must be an integer 0 to 255, got ${options.linkId}`);
    }
    this.clockInstance = options.clock ?? null;
    this.verifier = new SignatureVerifier(
      (systemId) => this.keysFor(systemId),
      {
        next: () => this.clock.next(),
        current: () => this.clock.current(),
        observe: (t) => this.clock.observe(t),
      },
      (verdict, frame) => this.logRefusal(verdict, frame),
    );
  }

  get status(): SigningStatus {
    let state: SigningState = this.activeKey ? 'on' : 'off';
    if (this.pending) state = this.pending.key ? 'setting-up' : 'turning-off';
    return { state, counts: this.verifier.counts };
  }

  /** The decoder's gate: true for frames that may be used. */
  gate(frame: IncomingFrame): boolean {
    const vehicle = this.vehicle();
    const fromVehicle = vehicle !== null && frame.systemId === vehicle.systemId;
    const pending = this.pending;
    if (pending && pending.key === null && fromVehicle && !frame.signed) {
      // The vehicle stopped signing, as asked.
      pending.confirm();
      return true;
    }
    if (pending?.key && !this.activeKey && fromVehicle && !frame.signed) {
      // Not signing yet, while the key is on its way to the vehicle.
      return true;
    }
    const { verdict, key } = this.verifier.check(frame);
    if (verdict !== 'accepted') return false;
    if (pending?.key && key && key.equals(pending.key) && fromVehicle) pending.confirm();
    return true;
  }

  /** The vehicle is known: if a key is stored for it, sign and check from now on. */
  vehicleIdentified(vehicle: VehicleAddress): void {
    if (this.activeKey || this.pending) return;
    const stored = this.options.keyStore?.get(vehicle.systemId) ?? null;
    if (!stored) return;
    log.info(`signing with the stored key of system ${vehicle.systemId}`);
    this.activate(stored);
  }

  /**
   * Gives the vehicle a key over this link (which must be trusted: the key travels in clear) and
   * signs with it once the vehicle does. An all-zero key turns signing off.
   */
  async setup(key: Buffer, action: string): Promise<CommandOutcome> {
    checkSigningKey(key);
    const vehicle = this.vehicle();
    if (!vehicle) return outcome(action, NOT_SENT, 'no vehicle has been heard on this link yet');
    if (this.pending) {
      return outcome(action, 'TEMPORARILY_REJECTED', 'a signing setup is already under way');
    }
    const disabling = isDisablingKey(key);
    const previous = this.activeKey;
    const retryMs = this.options.setupRetryMs ?? DEFAULT_SETUP_RETRY_MS;
    const attempts = this.options.setupAttempts ?? DEFAULT_SETUP_ATTEMPTS;
    return new Promise<CommandOutcome>((resolve) => {
      let sends = 0;
      let timer: NodeJS.Timeout | null = null;
      const sendSetup = (): void => {
        if (sends >= attempts) {
          finish(false);
          return;
        }
        sends++;
        this.send(
          build(common.SetupSigning, {
            targetSystem: vehicle.systemId,
            targetComponent: vehicle.componentId,
            secretKey: [...key],
            initialTimestamp: BigInt(this.clock.current()),
          }),
        );
        // A vehicle without a key takes signed frames too; one with the old key needs the old.
        if (!disabling && previous === null) this.setSigner(key);
        timer = setTimeout(sendSetup, retryMs);
      };
      const finish = (confirmed: boolean): void => {
        if (timer) clearTimeout(timer);
        timer = null;
        this.pending = null;
        if (!confirmed) {
          this.setSigner(previous);
          resolve(
            outcome(
              action,
              TIMEOUT,
              disabling
                ? 'the vehicle kept signing'
                : 'the vehicle did not start signing with the new key (does it support signing?)',
            ),
          );
          return;
        }
        if (disabling) {
          this.activeKey = null;
          this.setSigner(null);
          this.options.keyStore?.delete(vehicle.systemId);
          resolve(outcome(action, 'ACCEPTED', 'the vehicle no longer signs'));
          return;
        }
        this.activate(key);
        this.verifier.forget(vehicle.systemId);
        let saved = '';
        try {
          this.options.keyStore?.set(vehicle.systemId, key);
          if (this.options.keyStore) saved = `; key saved in ${this.options.keyStore.file}`;
        } catch (error) {
          saved = `; the key could not be saved: ${(error as Error).message}`;
        }
        resolve(outcome(action, 'ACCEPTED', `the vehicle signs with the new key${saved}`));
      };
      if (this.disposed) {
        resolve(outcome(action, NOT_SENT, 'the link is closed'));
        return;
      }
      this.pending = {
        key: disabling ? null : key,
        confirm: () => finish(true),
        abort: () => finish(false),
      };
      sendSetup();
    });
  }

  dispose(): void {
    this.disposed = true;
    this.pending?.abort();
    this.pending = null;
  }

  private get clock(): SigningClock {
    if (!this.clockInstance) {
      const store = this.options.keyStore;
      this.clockInstance = store
        ? PersistentSigningClock.open(path.join(path.dirname(store.file), 'signing-timestamp.json'))
        : new MemorySigningClock();
    }
    return this.clockInstance;
  }

  private activate(key: Buffer): void {
    this.activeKey = key;
    this.setSigner(key);
  }

  private setSigner(key: Buffer | null): void {
    this.encoder.setSigner(key ? frameSigner(key, this.linkId, this.clock) : null);
  }

  private keysFor(systemId: number): Buffer[] | null {
    const vehicle = this.vehicle();
    const keys: Buffer[] = [];
    if (vehicle === null || vehicle.systemId === systemId) {
      if (this.activeKey) keys.push(this.activeKey);
      if (this.pending?.key) keys.push(this.pending.key);
    }
    if (keys.length === 0) {
      const stored = this.options.keyStore?.get(systemId) ?? null;
      if (stored) keys.push(stored);
    }
    return keys.length > 0 ? keys : null;
  }

  private logRefusal(verdict: SigningVerdict, frame: IncomingFrame): void {
    const nowMs = performance.now();
    const lastMs = this.refusalsLoggedMs.get(verdict);
    if (lastMs !== undefined && nowMs - lastMs < REFUSAL_LOG_INTERVAL_MS) return;
    this.refusalsLoggedMs.set(verdict, nowMs);
    const what = { unsigned: 'unsigned', badSignature: 'wrongly signed', replayed: 'replayed' };
    const words = verdict === 'accepted' ? verdict : what[verdict];
    const counts = this.verifier.counts;
    log.warn(
      `refused a ${words} frame (message ${frame.messageId}) from system ${frame.systemId}` +
        ` component ${frame.componentId}; refused so far: ${counts.unsigned} unsigned, ` +
        `${counts.badSignature} wrongly signed, ${counts.replayed} replayed`,
    );
  }
}

function outcome(action: string, result: string, detail: string): CommandOutcome {
  const ok = result === 'ACCEPTED';
  const text = ok ? `${action}: ${detail}` : `${action} failed: ${detail}`;
  return { ok, result, text: `${text} (${result})` };
}
