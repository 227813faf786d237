// Test fixture: a service worker that fetches the URL in its ?u= parameter
// when it installs (tests/integration/test_egress.c).
self.addEventListener('install', function (event) {
  var u = new URL(self.location).searchParams.get('u');
  event.waitUntil(fetch(u, { mode: 'no-cors' }).catch(function () {}));
});
