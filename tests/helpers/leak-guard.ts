/**
 * The leak guard, loaded into every test file's process (`npm test` passes it with --import and
 * runs with --test-force-exit). When the runner is done with a file it calls process.exit; the
 * guard lets whatever is still closing finish (up to GRACE_MS), and if a server, socket, pool
 * connection, child process or timer is still open then, it names what is left and fails the
 * file, instead of the suite hanging on it or the leak going unseen.
 */

const GRACE_MS = 2_000;

/** What a test process holds by itself: its stdio pipes, and requests already under way. */
const OWN = new Set(['TTYWrap', 'CloseReq', 'FSReqCallback', 'FSReqPromise', 'FileHandleCloseReq', 'ShutdownWrap', 'WriteWrap', 'GetAddrInfoReqWrap']);
const stdioPipes = process.getActiveResourcesInfo().filter((kind) => kind === 'PipeWrap').length;

function leftOpen(): string[] {
  const all = process.getActiveResourcesInfo();
  const left = all.filter((kind) => !OWN.has(kind) && kind !== 'PipeWrap');
  const pipes = all.filter((kind) => kind === 'PipeWrap').length - stdioPipes;
  if (pipes > 0) left.push(...Array<string>(pipes).fill('PipeWrap'));
  return left;
}

// Only in the processes that run test files, not in the runner that starts them.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  const exit = process.exit.bind(process);
  process.exit = ((code?: number) => {
    if (code !== undefined) process.exitCode = code;
    // With nothing left open the process ends by itself before this fires (the timer is unref'd).
    setTimeout(() => {
      const left = leftOpen();
      if (left.length > 0) {
        const counts = [...new Set(left)].map((kind) => `${kind} x${left.filter((k) => k === kind).length}`).join(', ');
        process.stderr.write(`leak guard: the test file left open ${counts} (a server, socket, pool, child process or timer not closed)\n`);
        process.exitCode = 1;
      }
      exit();
    }, GRACE_MS).unref();
  }) as typeof process.exit;
}
