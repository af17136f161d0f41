// "Use my location" on the search form: fills latitude and longitude from the browser's geolocation.
// The page works without it (type the numbers); nothing is sent anywhere but the search form itself.
const button = document.querySelector(".lvn-locate");
if (button && "geolocation" in navigator) {
  button.closest(".lvn-js-only").hidden = false;
  button.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition((pos) => {
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(5);
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(5);
    });
  });
}
