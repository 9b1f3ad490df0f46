// The HTTP API with the session the page may need: on 401 the token dialog asks once, the token is
// traded for a session cookie (POST /v1/session) and the request is tried again.

const dialog = () => document.getElementById("token-dialog");
let signingIn = null;

/** Asks for the token until a session is granted; resolves when signed in. */
export function signIn() {
  if (signingIn) return signingIn;
  signingIn = new Promise((resolve) => {
    const form = document.getElementById("token-form"), input = document.getElementById("token-input");
    const error = document.getElementById("token-error");
    error.textContent = "";
    form.onsubmit = async (e) => {
      e.preventDefault();
      const r = await fetch("/v1/session", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: input.value.trim() }),
      });
      if (r.ok) {
        input.value = "";
        dialog().close();
        signingIn = null;
        resolve();
      } else {
        error.textContent = r.status === 429 ? "Too many attempts; wait a minute." : "That token is not valid.";
        input.select();
      }
    };
    if (!dialog().open) dialog().showModal();
    input.focus();
  });
  return signingIn;
}

/** fetch() that signs in when the server asks for it. */
export async function request(path, options = {}) {
  const go = () => fetch(path, { credentials: "same-origin", ...options });
  let r = await go();
  if (r.status === 401) {
    await signIn();
    r = await go();
  }
  return r;
}

export async function json(path, options) {
  const r = await request(path, options);
  if (!r.ok) throw new Error(await reason(r));
  return r.json();
}

/** The server's reason for an error response. */
export async function reason(r) {
  try {
    const body = await r.json();
    return body.error?.message ?? `${r.status} ${r.statusText}`;
  } catch {
    return `${r.status} ${r.statusText}`;
  }
}
