// When the session has ended (idle 30 minutes, 8 hours, signed out elsewhere), the
// server answers Dash's requests with 401: go to the sign-in page, then come back.
(function () {
  var fetch = window.fetch;
  window.fetch = function () {
    return fetch.apply(this, arguments).then(function (response) {
      if (response.status === 401 && response.url.indexOf("/_dash-") !== -1) {
        var here = window.location.pathname + window.location.search;
        window.location.assign("/login?next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
