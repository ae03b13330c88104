import { Command, InvalidArgumentError } from 'commander';
import { Api, type GlobalOptions } from './api';
import { stdout, type Output } from './output';

export interface CommandContext {
  api: Api;
  output: Output;
  globals: GlobalOptions;
}

/**
 * Wraps a command's handler: commander passes (args..., options, command); the handler gets the
 * shared context (API client, output), the positional arguments and the command's own options.
 */
export function action<O = Record<string, unknown>>(handler: (ctx: CommandContext, args: string[], opts: O) => Promise<void>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const opts = params[params.length - 2] as O;
    const args = params.slice(0, -2).flat() as string[];
    const globals = command.optsWithGlobals<GlobalOptions>();
    await handler({ api: new Api(globals), output: { json: globals.json, out: stdout }, globals }, args, opts);
  };
}

/** commander parser for a positive integer option. */
export function positiveInt(value: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

/** commander parser for a non-negative integer option. */
export function nonNegativeInt(value: string): number {
  if (!/^(0|[1-9]\d{0,15})$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}
