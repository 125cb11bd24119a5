#!/usr/bin/env node
// The `fiscus` executable. The sources are TypeScript run through tsx's loader,
// so there is no build step between a clone and a working CLI.
// DuckDB shares libuv's thread pool with file I/O (STACK-NOTES.md): give it room.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
