// A webhook receiver for the client suite: run.mjs starts it and points SyncHub__Webhooks__PrimaryUrl at it. It keeps
// every POST as received (raw body and headers) and answers 200; tests read them over HTTP, since node --test runs
// each test file in a process of its own:
//   POST /hooks            a webhook (recorded)
//   GET  /__received       every webhook so far: [{ headers, body }] (body is the raw text)
import http from 'node:http';

/** Starts the sink on 127.0.0.1 (a free port). Resolves to { url, hooksUrl, close }. */
export function startWebhookSink() {
    const received = [];
    const server = http.createServer((request, response) => {
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => {
            if (request.method === 'POST' && request.url === '/hooks') {
                received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
                response.writeHead(200, { 'Content-Type': 'text/plain' });
                return response.end('ok');
            }
            if (request.method === 'GET' && request.url === '/__received') {
                const text = JSON.stringify(received);
                response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
                return response.end(text);
            }
            response.writeHead(404);
            response.end();
        });
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => {
            const url = `http://127.0.0.1:${server.address().port}/`;
            resolve({ url, hooksUrl: `${url}hooks`, close: () => new Promise((done) => server.close(() => done())) });
        });
    });
}
