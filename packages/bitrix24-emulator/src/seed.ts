import { blockHtml, blockName } from './block-html.js';
import type { PortalState, UserState } from './types.js';

export interface UserSeed {
  id: number;
  name?: string;
  lastName?: string;
  email?: string;
  admin?: boolean;
  landingRights?: 'full' | 'read';
}

export interface BlockSeed {
  id?: number;
  code: string;
  name?: string;
  content?: string;
  active?: boolean;
}

export interface PageSeed {
  id?: number;
  title: string;
  code?: string;
  active?: boolean;
  blocks?: BlockSeed[];
}

export interface SiteSeed {
  id?: number;
  title: string;
  code?: string;
  type?: string;
  pages?: PageSeed[];
  /** Special pages: type code → page id. */
  syspages?: Record<string, number>;
}

export interface PortalSeed {
  memberId?: string;
  title?: string;
  /** Port of this portal's server; 0 = random. */
  port?: number;
  lang?: string;
  license?: string;
  domainProvider?: boolean;
  /** Added latency of this portal's REST and OAuth answers in ms (default: the emulator's latencyMs). */
  latencyMs?: number;
  /** Default: admin #1 and ordinary user #2 (read-only rights on Sites). */
  users?: UserSeed[];
  /** Default: the demo sites below. */
  sites?: SiteSeed[];
  /** Whether the registered apps start installed on this portal (default true). */
  appsInstalled?: boolean;
  /** Whether installFinish() counts as already signalled (default false). */
  installFinished?: boolean;
}

export const DEFAULT_USERS: UserSeed[] = [
  { id: 1, name: 'Anna', lastName: 'Admin', email: 'admin@example.test', admin: true, landingRights: 'full' },
  { id: 2, name: 'Ivan', lastName: 'User', email: 'user@example.test', admin: false, landingRights: 'read' },
];

/** IDs follow the Bitrix24 docs' examples (site 30, page 30, block 996) so payloads look familiar. */
export const DEMO_SITES: SiteSeed[] = [
  {
    id: 30,
    title: 'Demo Store',
    code: 'demo-store',
    type: 'STORE',
    pages: [
      {
        id: 30,
        title: 'Home',
        code: 'index',
        blocks: [
          { id: 995, code: '0.menu_02' },
          { id: 996, code: '43.4.cover_with_price_text_button_bgimg' },
          { id: 997, code: '04.1.one_col_fix_with_title' },
        ],
      },
      {
        id: 31,
        title: 'Catalog',
        code: 'catalog',
        blocks: [
          { id: 998, code: '27.one_col_fix_title_and_text_2' },
          { id: 999, code: 'repo_1132' },
        ],
      },
      { id: 32, title: 'Personal Section', code: 'personal', blocks: [] },
    ],
    syspages: { mainpage: 30, catalog: 31 },
  },
  {
    id: 31,
    title: 'Company Blog',
    code: 'blog',
    type: 'PAGE',
    pages: [
      {
        id: 33,
        title: 'Blog',
        code: 'blog',
        blocks: [
          { id: 1000, code: '04.7.one_col_fix_with_title_and_text_2' },
          { id: 1001, code: '32.2.img_one_big' },
        ],
      },
    ],
  },
];

export const randomHex = (bytes: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

function toUser(u: UserSeed): UserState {
  return {
    id: u.id,
    name: u.name ?? `User${u.id}`,
    lastName: u.lastName ?? '',
    email: u.email ?? `user${u.id}@example.test`,
    admin: u.admin ?? false,
    landingRights: u.landingRights ?? (u.admin ? 'full' : 'read'),
  };
}

/** Builds a portal from its seed; ids not given continue from the largest seeded id. */
export function buildPortal(seed: PortalSeed, now: number): PortalState {
  const users = new Map<number, UserState>();
  for (const u of seed.users ?? DEFAULT_USERS) users.set(u.id, toUser(u));
  if (![...users.values()].some((u) => u.admin))
    throw new Error('A portal seed needs at least one admin user');
  const portal: PortalState = {
    memberId: seed.memberId ?? randomHex(16),
    title: seed.title ?? 'Demo portal',
    lang: seed.lang ?? 'en',
    license: seed.license ?? 'en_pro100',
    domainProvider: seed.domainProvider ?? false,
    latencyMs: seed.latencyMs ?? 0,
    users,
    apps: new Map(),
    sites: new Map(),
    pages: new Map(),
    blocks: new Map(),
    syspages: [],
    webhooks: [],
    frameEvents: [],
    refreshedBlocks: [],
    placementCalls: [],
    nextId: 1,
    port: 0,
  };
  const sites = seed.sites ?? DEMO_SITES;
  let maxId = 0;
  for (const s of sites) {
    for (const id of [
      s.id,
      ...(s.pages ?? []).flatMap((p) => [p.id, ...(p.blocks ?? []).map((b) => b.id)]),
    ]) {
      if (id !== undefined) maxId = Math.max(maxId, id);
    }
  }
  portal.nextId = maxId + 1;
  const adminId = [...users.values()].find((u) => u.admin)!.id;
  for (const s of sites) {
    const siteId = s.id ?? portal.nextId++;
    portal.sites.set(siteId, {
      id: siteId,
      code: s.code ?? `site${siteId}`,
      title: s.title,
      type: s.type ?? 'PAGE',
      active: true,
      deleted: false,
      description: '',
      xmlId: '',
      domainId: siteId,
      createdBy: adminId,
      modifiedBy: adminId,
      createdAt: now,
      modifiedAt: now,
    });
    for (const p of s.pages ?? []) {
      const pageId = p.id ?? portal.nextId++;
      portal.pages.set(pageId, {
        id: pageId,
        siteId,
        code: p.code ?? `page${pageId}`,
        title: p.title,
        active: p.active ?? true,
        deleted: false,
        folder: false,
        description: '',
        xmlId: '',
        createdBy: adminId,
        modifiedBy: adminId,
        createdAt: now,
        modifiedAt: now,
      });
      (p.blocks ?? []).forEach((b, i) => {
        const blockId = b.id ?? portal.nextId++;
        const name = b.name ?? blockName(b.code);
        portal.blocks.set(blockId, {
          id: blockId,
          pageId,
          code: b.code,
          name,
          active: b.active ?? true,
          deleted: false,
          sort: (i + 1) * 500,
          content: b.content ?? blockHtml(blockId, b.code, p.title),
          refreshCount: 0,
          createdAt: now,
          modifiedAt: now,
        });
      });
    }
    for (const [type, landingId] of Object.entries(s.syspages ?? {})) {
      portal.syspages.push({ siteId, type, landingId });
    }
  }
  return portal;
}
