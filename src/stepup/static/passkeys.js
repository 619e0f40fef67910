/* stepup passkeys: calls navigator.credentials for the options the page carries and posts
   the authenticator's response to the page's form. No framework and no inline script, so
   a Content-Security-Policy of script-src 'self' allows it. */
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type, id: fromB64url(c.id) };
      if (c.transports) { d.transports = c.transports; }
      return d;
    });
  }

  // The JSON options (as py_webauthn writes them) with their binary fields as buffers.
  function publicKey(options, mode) {
    var o = JSON.parse(JSON.stringify(options));
    o.challenge = fromB64url(o.challenge);
    if (mode === "create") {
      o.user.id = fromB64url(o.user.id);
      o.excludeCredentials = descriptors(o.excludeCredentials);
    } else {
      o.allowCredentials = descriptors(o.allowCredentials);
    }
    return o;
  }

  // The credential as JSON, its binary fields in base64url (WebAuthn's toJSON shape).
  function asJSON(credential) {
    var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type, response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }

  function show(box, selector, text) {
    var el = box.querySelector(selector);
    if (!el) { return; }
    if (text) { el.textContent = text; }
    el.hidden = false;
  }

  function start(box) {
    var mode = box.getAttribute("data-mode");
    var form = box.querySelector("form[data-passkey-form]");
    var button = box.querySelector("[data-passkey-start]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(box, "[data-passkey-unsupported]");
      if (button) { button.hidden = true; button.style.display = "none"; }  // a stylesheet may show [hidden]
      return;
    }
    if (!button || !form) { return; }
    var options = JSON.parse(box.getAttribute("data-options"));
    button.addEventListener("click", function () {
      button.disabled = true;
      var call = mode === "create"
        ? navigator.credentials.create({ publicKey: publicKey(options, mode) })
        : navigator.credentials.get({ publicKey: publicKey(options, mode) });
      call.then(function (credential) {
        form.querySelector("input[name=credential]").value = asJSON(credential);
        form.submit();
      }, function (error) {
        button.disabled = false;
        // The words are the page's (data-msg-*), in the language the server chose.
        show(box, "[data-passkey-failed]", error && error.name === "InvalidStateError"
          ? box.getAttribute("data-msg-exists")
          : box.getAttribute("data-msg-failed"));
      });
    });
  }

  var boxes = document.querySelectorAll("[data-passkey]");
  for (var i = 0; i < boxes.length; i++) { start(boxes[i]); }
})();
