// A "Copy" button beside a text to copy (the invite code): buttons with data-copy="ID" copy the
// value of the element with that id. Without this script the buttons stay hidden and the text
// can be selected and copied by hand.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var target = document.getElementById(button.getAttribute("data-copy"));
  if (!target) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.value).then(done);
    } else {
      target.select();
      if (document.execCommand("copy")) done();
    }
  });
});
