import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ServerOptions } from 'node:https';
import { ConfigError, envName, type Config } from '../../shared/config';
import { toError } from '../../shared/errors';

type TlsKey = 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile';

function readPem(config: Config, key: TlsKey, check: (pem: Buffer) => unknown): Buffer {
  const file = config[key];
  try {
    const pem = readFileSync(file);
    check(pem);
    return pem;
  } catch (err) {
    throw new ConfigError(`${key} (${envName(key)}): cannot use ${file}: ${toError(err).message}`);
  }
}

/**
 * HTTPS options from the TLS files, or undefined for plain HTTP. Each file is read and parsed
 * here, at start, so a bad one stops the broker with a message naming its setting (exit 2).
 * With a CA file, every client must present a certificate that CA signed.
 */
export function tlsOptions(config: Config): ServerOptions | undefined {
  if (config.tlsCertFile === '') return undefined;
  const cert = readPem(config, 'tlsCertFile', (pem) => new X509Certificate(pem));
  const key = readPem(config, 'tlsKeyFile', (pem) => createPrivateKey(pem));
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`tlsCertFile (${envName('tlsCertFile')}) and tlsKeyFile (${envName('tlsKeyFile')}): ${toError(err).message}`);
  }
  if (config.tlsCaFile === '') return { cert, key };
  const ca = readPem(config, 'tlsCaFile', (pem) => new X509Certificate(pem));
  return { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}
