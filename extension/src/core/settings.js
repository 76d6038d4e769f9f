// The person's settings, their defaults and their validation. No chrome.* here.

export const DEFAULTS = Object.freeze({
  screenshots: true,        // attach a PNG of the visible tab to each captured notice
  platforms: {},            // platform id -> false when the person turned it off (absent = on)
  autoLockMinutes: 15,      // passed to the host's unlock (1-1440)
  appealText: false,        // also keep the text the person wrote in an appeal form (opt-in)
  webmail: {},              // webmail id ("gmail", "outlook") -> true when the person opted in (absent = off)
  announce: true,           // a mark on the toolbar button, for a few seconds, when a notice is stored
});

/** Returns a clean settings object from anything stored or sent by a page. */
export function sanitiseSettings(raw) {
  const s = { screenshots: DEFAULTS.screenshots, platforms: {}, autoLockMinutes: DEFAULTS.autoLockMinutes, appealText: false, webmail: {},
    announce: DEFAULTS.announce };
  if (!raw || typeof raw !== 'object') return s;
  if (typeof raw.announce === 'boolean') s.announce = raw.announce;
  if (typeof raw.appealText === 'boolean') s.appealText = raw.appealText;
  if (raw.webmail && typeof raw.webmail === 'object') {
    for (const [k, v] of Object.entries(raw.webmail)) if (/^[a-z0-9_-]{1,20}$/.test(k) && v === true) s.webmail[k] = true;
  }
  if (typeof raw.screenshots === 'boolean') s.screenshots = raw.screenshots;
  if (raw.platforms && typeof raw.platforms === 'object') {
    for (const [k, v] of Object.entries(raw.platforms)) {
      if (/^[a-z0-9_-]{1,40}$/.test(k) && typeof v === 'boolean') s.platforms[k] = v;
    }
  }
  const m = Number(raw.autoLockMinutes);
  if (Number.isInteger(m) && m >= 1 && m <= 1440) s.autoLockMinutes = m;
  return s;
}

export function platformEnabled(settings, id) {
  return settings.platforms[id] !== false;
}

export function webmailEnabled(settings, id) {
  return Boolean(settings.webmail && settings.webmail[id] === true);
}
