// Operator commands on the server's configuration and database: `npm run cli -- <command>`,
// `node dist/cli.js <command>` in the Docker image. See `--help` and README, Operations.
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  io: { stdout: process.stdout, stderr: process.stderr },
});
