// "Help spot copied codes": with the person's consent, the rough place of this scan.
// The browser's position is rounded here to a tenth of a degree (about 11 km) before it
// leaves the phone; the service rounds it again and keeps nothing else about the sender.
const section = document.getElementById("share-place");
const button = document.getElementById("share-place-button");
const result = document.getElementById("share-place-result");

function say(text) {
  result.textContent = text;
}

function rounded(value) {
  return Math.round(value * 10) / 10;
}

if (section && button && result && "geolocation" in navigator) {
  section.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    say("Asking your phone for your approximate area…");
    navigator.geolocation.getCurrentPosition(
      async (position) => {
        const body = {
          link: section.dataset.link,
          lat: rounded(position.coords.latitude),
          lon: rounded(position.coords.longitude),
        };
        try {
          const response = await fetch("/api/v1/scans", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
          });
          if (!response.ok) throw new Error(String(response.status));
          say(`Thank you. Only your approximate area (${body.lat}, ${body.lon}) was sent.`);
        } catch {
          say("It could not be sent; please try again later.");
          button.disabled = false;
        }
      },
      () => {
        say("Your area was not shared. That is fine: nothing else is needed.");
        button.disabled = false;
      },
      { enableHighAccuracy: false, maximumAge: 600000, timeout: 15000 },
    );
  });
}
