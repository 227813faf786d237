/* Copies the values of earlier pages (from the query string) into hidden inputs. */
(function () {
  var q = new URLSearchParams(location.search);
  var form = document.querySelector('form');
  q.forEach(function (v, k) {
    if (form && !form.elements[k]) {
      var h = document.createElement('input');
      h.type = 'hidden';
      h.name = k;
      h.value = v;
      form.appendChild(h);
    }
  });
  document.querySelectorAll('[data-show]').forEach(function (el) {
    el.textContent = q.get(el.getAttribute('data-show')) || '—';
  });
})();
