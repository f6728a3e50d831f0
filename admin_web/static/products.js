// Products pages: conveniences on top of forms that work without JavaScript.
(function () {
  "use strict";

  // The list: a "select all" box for the bulk actions.
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    var boxes = all.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });

  // Buttons that ask before they act (taking products off the shelf).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // The bulk page: fill one price or stock into every row.
  document.querySelectorAll("[data-bulk-fill]").forEach(function (panel) {
    panel.hidden = false;
    panel.querySelector("[data-fill-apply]").addEventListener("click", function () {
      panel.querySelectorAll("[data-fill-value]").forEach(function (source) {
        var value = source.value.trim();
        if (!value) { return; }
        var kind = source.getAttribute("data-fill-value");
        document.querySelectorAll('input[data-fill="' + kind + '"]').forEach(function (input) {
          input.value = value;
        });
      });
    });
  });

  // The product form: choosing files uploads them at once (the page keeps what was typed).
  var upload = document.querySelector('#product-form input[type=file][name="upload"]');
  if (upload) {
    upload.addEventListener("change", function () {
      var button = upload.form.querySelector('button[name="do"][value="upload"]');
      if (upload.files.length && button) { button.click(); }
    });
  }
})();
