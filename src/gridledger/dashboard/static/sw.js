// The dashboard's service worker: the page's own files, network first, from a cache when
// the node cannot be reached, so a reload while the node is down still shows the page
// (saying so) instead of the browser's error page. API answers are never cached.

const CACHE = "gridledger-dashboard-5";
const SHELL = [
  "./",
  "index.html",
  "style.css",
  "app.js",
  "api.js",
  "auth.js",
  "session.js",
  "signin.js",
  "live.js",
  "charts.js",
  "verify.js",
  "pages/overview.js",
  "pages/market.js",
  "pages/energy.js",
  "pages/chain.js",
  "pages/results.js",
  "pages/governance.js",
  "vendor/chart.umd.min.js",
  "vendor/tweetnacl-fast.min.js",
];
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith(SCOPE) || url.pathname === `${SCOPE}sw.js`) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(event.request, { ignoreSearch: true })
          .then((hit) => hit || Response.error()),
      ),
  );
});
