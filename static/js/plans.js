// Task form: show the filters only for directed tasks, the ad-hoc reason only without a plan.
(function () {
  "use strict";
  function fieldOf(id) {
    var el = document.getElementById(id);
    return el ? el.closest(".field") : null;
  }
  function toggle(id, show) {
    var field = fieldOf(id);
    if (field) { field.classList.toggle("is-hidden", !show); }
  }
  function update() {
    var kind = document.querySelector("input[name=kind]:checked");
    var directed = !kind || kind.value === "directed";
    ["id_enterprise_types", "id_scales", "id_trades", "id_townships", "id_licence_types"].forEach(
      function (id) { toggle(id, directed); }
    );
    var plan = document.getElementById("id_plan");
    if (plan) { toggle("id_adhoc_reason", !plan.value); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("form.task-form")) { return; }
    document.querySelectorAll("input[name=kind], #id_plan").forEach(function (el) {
      el.addEventListener("change", update);
    });
    update();
  });
})();
