// Page behaviour without inline scripts (the content security policy forbids them).
document.addEventListener("htmx:configRequest", function (event) {
  // Django's CSRF token for htmx requests that write.
  var token = document.querySelector("meta[name=csrf-token]");
  if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
});
