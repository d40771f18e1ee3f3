// A button that prints the page (约请函, 派遣单): `data-print` on it. No inline scripts: the content
// security policy forbids them.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
