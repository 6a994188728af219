// Drive phone.html (a SIP.js phone) in headless Chromium, for tests/e2e/test_webrtc.py.
//
//   node run.mjs            (in tests/webrtc, after `npm ci`)
//
// It serves phone.html and SIP.js on 127.0.0.1 (a secure context, as WebRTC wants), launches the Chromium
// named by $CHROMIUM (default /usr/bin/chromium) through playwright-core with a fake microphone (and, with
// $IGNORE_CERTIFICATE_ERRORS set, accepting any TLS certificate), and prints
// {"event": "ready"} on stdout. Then each line on stdin is a command, {"do": "register" | "call" | "hangup" |
// "unregister", "args": {...}} (see window.phone in phone.html), answered by one JSON line: the result with
// "ok": true, or "ok": false and "error". {"do": "quit"} or the end of stdin closes the browser and exits.
// The page's console (SIP.js logs every message) goes to stderr.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
// Only the page and the SIP.js library are served.
const served = [path.join(here, "phone.html"), path.join(here, "node_modules", "sip.js", "lib") + path.sep];
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

function emit(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function serve() {
  const server = http.createServer(async (request, response) => {
    const file = path.join(here, decodeURIComponent(new URL(request.url, "http://x").pathname));
    const allowed = served.some((prefix) => file === prefix || (prefix.endsWith(path.sep) && file.startsWith(prefix)));
    const found = allowed && (await stat(file).catch(() => null))?.isFile();
    if (!found) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--use-fake-ui-for-media-stream", // grant the microphone without asking
    "--use-fake-device-for-media-stream", // a generated tone instead of a sound card
    // Offer the real host addresses as ICE candidates, not mDNS names a PBX cannot resolve.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    // A test's wss:// server has a self-signed certificate.
    ...(process.env.IGNORE_CERTIFICATE_ERRORS ? ["--ignore-certificate-errors"] : []),
  ],
});
let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await browser.close().catch(() => {});
  server.close();
}
try {
  const page = await browser.newPage();
  page.on("console", (message) => process.stderr.write(`[page ${message.type()}] ${message.text()}\n`));
  page.on("pageerror", (error) => process.stderr.write(`[page error] ${error}\n`));
  await page.goto(`http://127.0.0.1:${server.address().port}/phone.html`);
  await page.waitForFunction(() => window.phone !== undefined, null, { timeout: 30000 });
  emit({ event: "ready", chromium: browser.version() });

  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    if (command.do === "quit") break;
    try {
      const result = await page.evaluate(([name, args]) => window.phone[name](args), [command.do, command.args ?? {}]);
      emit({ ok: true, ...result });
    } catch (error) {
      emit({ ok: false, error: String(error?.message ?? error) });
    }
  }
} catch (error) {
  emit({ event: "error", error: String(error?.stack ?? error) });
  process.exitCode = 1;
} finally {
  await close();
}
