// The position on the public report page: "使用我的位置" takes the phone's position, a tap on the
// district's outline (cases/_district_map.html) takes the point tapped; either goes into the hidden
// latitude and longitude fields, moves the pin and is written out in numbers. No map tiles are fetched
// from anywhere.
(function () {
  var button = document.getElementById("use-location");
  if (!button) { return; }
  var status = document.getElementById("location-status");
  var form = button.closest("form");
  var map = document.getElementById("district-map");
  var pin = document.getElementById("map-pin");
  function say(text) { status.textContent = text; }

  // The projection of cases.district_map: x grows with longitude, y falls with latitude.
  var west = parseFloat(map.dataset.west), north = parseFloat(map.dataset.north);
  var scaleX = parseFloat(map.dataset.scaleX), scaleY = parseFloat(map.dataset.scaleY);
  var box = map.viewBox.baseVal;

  // The pin and the fields follow a position on the map; one off the map clears them (the server would
  // refuse it: cases.models.Case.clean).
  function place(lat, lng) {
    var x = (lng - west) * scaleX, y = (north - lat) * scaleY;
    var shown = x >= 0 && x <= box.width && y >= 0 && y <= box.height;
    form.querySelector("[name=latitude]").value = shown ? lat.toFixed(6) : "";
    form.querySelector("[name=longitude]").value = shown ? lng.toFixed(6) : "";
    if (shown) { pin.setAttribute("transform", "translate(" + x.toFixed(1) + " " + y.toFixed(1) + ")"); }
    pin.setAttribute("visibility", shown ? "visible" : "hidden");
    return shown;
  }

  map.addEventListener("click", function (event) {
    var point = map.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var inside = point.matrixTransform(map.getScreenCTM().inverse());
    var lat = north - inside.y / scaleY, lng = west + inside.x / scaleX;
    place(lat, lng);
    say("已在地图上标出位置：北纬 " + lat.toFixed(6) + "，东经 " + lng.toFixed(6) + "。");
  });

  if (!("geolocation" in navigator)) {
    button.disabled = true;
    say("此浏览器不能提供位置，请搜索选择地点，也可在地图上点选。");
    return;
  }
  button.addEventListener("click", function () {
    say("正在获取位置…");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var lat = position.coords.latitude, lng = position.coords.longitude;
        if (place(lat, lng)) {
          say("已记录位置：北纬 " + lat.toFixed(6) + "，东经 " + lng.toFixed(6) + "（精度约 " +
              Math.round(position.coords.accuracy) + " 米）。请再搜索选择所在小区或居民区。");
        } else {
          say("您的位置不在静安区内，未记录。可在地图上点选，或搜索选择地点。");
        }
      },
      function () { say("未能获取位置（可能未允许定位），请搜索选择地点，也可在地图上点选。"); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
