// Opening the process's listening socket (the API's PORT, a worker's METRICS_PORT). A port that cannot
// be had stops the start with one line naming the variable and what to do, as a bad setting does.
import type { Server } from 'node:http';

export async function listenOn(server: Server, port: number, host: string, variable: 'PORT' | 'METRICS_PORT'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(whyNotListening(error, port, host, variable) ?? error.message, { cause: error });
  });
}

function whyNotListening(error: NodeJS.ErrnoException, port: number, host: string, variable: string): string | null {
  switch (error.code) {
    case 'EADDRINUSE':
      return `${variable}=${port}: port ${port} on ${host} is already in use (another vidq, or another program). Set ${variable} to a free port, or stop what holds it.`;
    case 'EACCES':
      return `${variable}=${port}: this user may not listen on port ${port} (ports below 1024 need root or CAP_NET_BIND_SERVICE). Set ${variable} to 1024 or above, and put a proxy in front.`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `HOST=${host}: this machine has no such address to listen on. Set HOST to one of its addresses, or 0.0.0.0 (all of them).`;
    default:
      return null;
  }
}
