// In-memory MongoDB-wire-protocol server for tests: node serve.mjs PORT
// Prints "ready PORT" once it accepts connections; stops on SIGTERM.
import { CongoServer } from './congodb/index.js';

const port = Number(process.argv[2] || 27117);
const server = new CongoServer({ port, host: '127.0.0.1' });
await server.start();
console.log(`ready ${port}`);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
