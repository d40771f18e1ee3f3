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

// Dependent pickers (core.forms.ScopedModelForm.picker_fields): when an area, estate or building is
// chosen, the page is asked again with the chain's values only — never the rest of the form, which may
// hold an ID number — and the pickers after the one changed are replaced by the re-rendered ones.
var pickerRequests = 0;  // only the answer to the latest change is applied
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("[data-refresh-form]") || !select.form) { return; }
  var form = select.form;
  var request = ++pickerRequests;
  var params = new URLSearchParams();
  form.querySelectorAll("[data-picker] select, [data-picker] input").forEach(function (input) {
    if (input.name && input.value) { params.append(input.name, input.value); }
  });
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-picker]"));
  var changed = select.closest("[data-picker]");
  var after = blocks.slice(blocks.indexOf(changed) + 1);
  // A later picker whose value no longer fits is cleared by the server (it is not among the choices).
  var url = form.getAttribute("data-refresh-url") + "?" + params.toString();
  after.forEach(function (block) { block.classList.add("opacity-50"); });
  fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    })
    .then(function (html) {
      if (request !== pickerRequests) { return; }
      var page = new DOMParser().parseFromString(html, "text/html");
      after.forEach(function (block) {
        var fresh = page.getElementById(block.id);
        if (fresh) { block.replaceWith(document.importNode(fresh, true)); }
        else { block.classList.remove("opacity-50"); }
      });
    })
    .catch(function () {
      after.forEach(function (block) { block.classList.remove("opacity-50"); });
    });
});
