/** The identity provider's few HTML pages: plain forms, no scripts. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** A page in the app's own look: its stylesheet (served with the web app at /app/), its top bar and a card. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · MeshMeet</title>
<link rel="stylesheet" href="/app/style.css">
</head>
<body class="idp">
<header class="portal-bar"><a class="brand" href="/app/">MeshMeet</a></header>
<main class="portal-body narrow">
<section class="card">
<h1>${escapeHtml(title)}</h1>
${body}
</section>
</main>
</body>
</html>`;
}

export function loginPage(o: { uid: string; clientName: string; email?: string; error?: string }): string {
  const action = `/auth/interaction/${encodeURIComponent(o.uid)}`;
  return page(
    'Sign in',
    `<p class="muted">to continue to ${escapeHtml(o.clientName)}</p>
${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="${action}/login" autocomplete="on" class="stack idp-form">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autofocus autocomplete="username" value="${escapeHtml(o.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required autocomplete="current-password">
<div class="button-row"><button type="submit">Sign in</button></div>
</form>
<form method="post" action="${action}/abort" class="idp-cancel"><button type="submit" class="off">Cancel</button></form>
<p class="muted idp-new">New to MeshMeet? <a href="/app/">Create an account</a>, then sign in.</p>`,
  );
}

export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  return page(title, `<p>${escapeHtml(message)}</p>${link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>` : ''}`);
}
