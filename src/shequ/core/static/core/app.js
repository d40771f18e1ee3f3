// Page behaviour without inline scripts (the content security policy forbids them).
document.addEventListener("htmx:configRequest", function (event) {
  // Django's CSRF token for htmx requests that write.
  var token = document.querySelector("meta[name=csrf-token]");
  if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
});

// A form that acts on "the rows the list shows" (an export with a reason) takes the filter form's
// current values when submitted: the filters may have changed through htmx since the page loaded.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var sourceId = form.getAttribute && form.getAttribute("data-copy-filters");
  if (!sourceId) { return; }
  var source = document.getElementById(sourceId);
  if (!source) { return; }
  form.querySelectorAll("[data-filter-copy]").forEach(function (input) { input.remove(); });
  new FormData(source).forEach(function (value, name) {
    if (!value) { return; }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    input.setAttribute("data-filter-copy", "");
    form.appendChild(input);
  });
});
