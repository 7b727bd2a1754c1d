import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { replyVia } from '../../src/slack/jobs/command';
import { postToResponseUrl } from '../../src/slack/response-url';

let server: Server;
let base: string;
const got: { path?: string; type?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ path: req.url, type: req.headers['content-type'], body });
      if (req.url === '/silent') return; // never answers
      res.writeHead(req.url === '/expired' ? 404 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('answers through response_url', () => {
  it('posts the message as JSON, over one kept-alive connection', async () => {
    const sockets = new Set<unknown>();
    server.on('connection', (s) => sockets.add(s));
    for (let i = 0; i < 3; i++) await replyVia(`${base}/ok`, `answer ${i}`);
    expect(got.slice(-3).map((g) => [g.path, g.type, JSON.parse(g.body)])).toEqual(
      [0, 1, 2].map((i) => ['/ok', 'application/json', { response_type: 'ephemeral', text: `answer ${i}` }]),
    );
    expect(sockets.size).toBeLessThanOrEqual(1);
  });

  it('says what went wrong: a refused post, no answer in time, a URL that is not http(s)', async () => {
    await expect(replyVia(`${base}/expired`, 'late')).rejects.toThrow('response_url answered 404');
    await expect(postToResponseUrl(`${base}/silent`, {}, 100)).rejects.toThrow(
      'response_url did not answer within 100 ms',
    );
    await expect(postToResponseUrl('file:///etc/passwd', {})).rejects.toThrow('response_url is not an http(s) URL');
  });
});
