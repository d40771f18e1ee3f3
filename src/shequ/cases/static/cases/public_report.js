// "使用我的位置" on the public report page: the phone's position goes into the hidden latitude and
// longitude fields and is shown as numbers (no map tiles are fetched from anywhere).
(function () {
  var button = document.getElementById("use-location");
  if (!button) { return; }
  var status = document.getElementById("location-status");
  var form = button.closest("form");
  function say(text) { status.textContent = text; }
  if (!("geolocation" in navigator)) {
    button.disabled = true;
    say("此浏览器不能提供位置，请搜索选择地点。");
    return;
  }
  button.addEventListener("click", function () {
    say("正在获取位置…");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var lat = position.coords.latitude.toFixed(6);
        var lng = position.coords.longitude.toFixed(6);
        form.querySelector("[name=latitude]").value = lat;
        form.querySelector("[name=longitude]").value = lng;
        say("已记录位置：北纬 " + lat + "，东经 " + lng + "（精度约 " + Math.round(position.coords.accuracy) +
            " 米）。请再搜索选择所在小区或居民区。");
      },
      function () { say("未能获取位置（可能未允许定位），请搜索选择地点。"); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
