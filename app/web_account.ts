/**
 * The browser client's script, third part (see `web_page.ts`): logging in,
 * registering and logging out through a dialog with a password field, so
 * a password is never typed into the chat line (and never shown: the page
 * echoes no command, and the server's answers do not repeat it).
 *
 * @module
 */

/** The third part of the page's script; it ends by connecting. */
export const WEB_ACCOUNT = `  const account = $("account"), accountButton = $("account-button");
  const nameField = $("account-name"), passwordField = $("account-password");
  /** A registration waiting for the rename it asked for first. */
  let registering = null;

  function setAccount(on) {
    state.account = on;
    accountButton.textContent = on ? "Log out" : "Log in";
  }
  /** Follows the account from the server's answers. */
  function accountNews(e) {
    if (e.type === "rename" && registering && e.to.toLowerCase() === registering.name.toLowerCase()) {
      socket?.send("/register " + registering.password);
      registering = null;
    } else if (e.type === "error") {
      registering = null;
    } else if (e.type === "info" && (e.notice === "logged_in" || e.notice === "registered")) {
      setAccount(true);
    } else if (e.type === "info" && /^(logged_out|account_deleted|password_changed_elsewhere)$/.test(e.notice ?? "")) {
      setAccount(false);
    }
  }
  accountButton.addEventListener("click", () => {
    if (state.account) { socket?.send("/logout"); return; }
    nameField.value = /^user\\d+$/i.test(state.me) ? "" : state.me;
    passwordField.value = "";
    account.showModal();
  });
  $("account-cancel").addEventListener("click", () => account.close());
  account.addEventListener("close", () => { passwordField.value = ""; input.focus(); });
  $("account-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = nameField.value.trim(), password = passwordField.value;
    account.close();
    if (!socket || socket.readyState !== WebSocket.OPEN || !name || !password) return;
    if (event.submitter?.value !== "register") socket.send("/login " + name + " " + password);
    else if (name.toLowerCase() === state.me.toLowerCase()) socket.send("/register " + password);
    else { registering = { name, password }; socket.send("/nick " + name); }
  });
  connect();
`;
