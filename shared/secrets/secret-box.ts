import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, envName, type Config } from '../config';

/**
 * Seals short secrets (db node passwords) for storage in the metadata DB: AES-256-GCM with a
 * random 96-bit IV per value, so the stored form is `aes-256-gcm:<iv>:<tag>:<cipher text>`
 * (base64). Without a key, values are stored as `plain:<text>`; both forms are always readable
 * when the key is known, so adding a key later needs no downtime (and brokers re-seal plain rows
 * at start, see reseal-passwords.ts).
 */
const SEALED = 'aes-256-gcm:';
const PLAIN = 'plain:';
const IV_BYTES = 12;

export class SecretBox {
  private constructor(private readonly key: Buffer | undefined) {}

  /** From config.secretKey: 64 hex digits or the base64 of 32 bytes; '' = no encryption. */
  static fromConfig(config: Pick<Config, 'secretKey'>): SecretBox {
    const raw = config.secretKey;
    if (raw === '') return new SecretBox(undefined);
    const key = /^[0-9A-Fa-f]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new ConfigError(`secretKey (${envName('secretKey')}): must be 32 bytes (64 hex digits or base64)`);
    return new SecretBox(key);
  }

  get encrypts(): boolean {
    return this.key !== undefined;
  }

  seal(plain: string): string {
    if (!this.key) return PLAIN + plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const text = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${SEALED}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${text.toString('base64')}`;
  }

  /** The secret a stored value holds; throws when it is sealed and the key is missing or wrong. */
  open(stored: string): string {
    if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
    if (!stored.startsWith(SEALED)) throw new Error('stored secret has an unknown format');
    if (!this.key) throw new Error(`stored secret is encrypted and no key is configured (${envName('secretKey')})`);
    const [iv, tag, text] = stored.slice(SEALED.length).split(':');
    if (iv === undefined || tag === undefined || text === undefined) throw new Error('stored secret is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(text, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`stored secret does not open with the configured key (${envName('secretKey')})`);
    }
  }

  /** True for values written without a key (to be re-sealed once there is one). */
  static isPlain(stored: string): boolean {
    return stored.startsWith(PLAIN);
  }
}
