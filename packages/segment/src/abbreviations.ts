/**
 * How a full stop after an abbreviation is read when the Unicode rules would end a sentence
 * there (they already keep "etc. and" together: a lowercase word never starts a sentence).
 * - `title`: ends a sentence only before a typical sentence opener that is not also a name
 *   ("Mr. Smith", "e.g. Apples", "vs. Jones" go on; "on Larimer St. The woman" ends).
 * - `numeric`: does not end a sentence before a number ("No. 5", "pp. 12", "Jan. 3").
 * - `ambiguous`: ends a sentence only before a typical sentence opener ("in the U.S. The
 *   next day" splits, "the U.S. Army" does not).
 * - `final`: may end a sentence like any word ("... pears, etc. Bananas ...").
 */
export type AbbreviationKind = 'title' | 'numeric' | 'ambiguous' | 'final';

/**
 * The English abbreviations the sentence rules know, without their final full stop. Entries
 * are case-sensitive; an all-lowercase entry also matches with a capital first letter ("E.g").
 * Dotted letter sequences ("U.S.A.", "J.R.R.") and single capital initials are recognised
 * without a list entry and read as `ambiguous`.
 */
export const DEFAULT_ABBREVIATIONS: Readonly<Record<string, AbbreviationKind>> = {
  // Titles and forms of address.
  Mr: 'title', Mrs: 'title', Ms: 'title', Messrs: 'title', Mme: 'title', Mlle: 'title',
  Dr: 'title', Prof: 'title', Rev: 'title', Fr: 'title', Hon: 'title', Pres: 'title',
  Gov: 'title', Sen: 'title', Rep: 'title', Gen: 'title', Col: 'title', Maj: 'title',
  Capt: 'title', Cmdr: 'title', Lt: 'title', Sgt: 'title', Cpl: 'title', Adm: 'title',
  Supt: 'title', Insp: 'title', St: 'title', Ste: 'title', Mt: 'title', Ft: 'title',
  Mmes: 'title', Drs: 'title', Profs: 'title', Reps: 'title', Sens: 'title', Govs: 'title',
  Gens: 'title', Cols: 'title', Capts: 'title', Lts: 'title', Sgts: 'title', Atty: 'title',
  Brig: 'title', Pfc: 'title', Pvt: 'title', Cpt: 'title', Dist: 'title', Rte: 'title',
  // Latin and reference abbreviations that are followed by more of the sentence.
  'e.g': 'title', 'i.e': 'title', vs: 'title', 'v': 'title', cf: 'title', viz: 'title',
  approx: 'title', esp: 'title', incl: 'title', resp: 'title', ca: 'title',
  // Followed by a number.
  No: 'numeric', Nos: 'numeric', no: 'numeric', p: 'numeric', pp: 'numeric', vol: 'numeric',
  Vol: 'numeric', ch: 'numeric', Ch: 'numeric', chap: 'numeric', sec: 'numeric', Sec: 'numeric',
  fig: 'numeric', Fig: 'numeric', figs: 'numeric', eq: 'numeric', Eq: 'numeric', art: 'numeric',
  Art: 'numeric', para: 'numeric', op: 'numeric', ed: 'numeric', Jan: 'numeric', Feb: 'numeric',
  Mar: 'numeric', Apr: 'numeric', Jun: 'numeric', Jul: 'numeric', Aug: 'numeric', Sep: 'numeric',
  Sept: 'numeric', Oct: 'numeric', Nov: 'numeric', Dec: 'numeric',
  // Often inside a sentence, but they can end one.
  'U.S': 'ambiguous', 'U.K': 'ambiguous', 'U.N': 'ambiguous', 'E.U': 'ambiguous',
  'a.m': 'ambiguous', 'p.m': 'ambiguous', 'A.M': 'ambiguous', 'P.M': 'ambiguous',
  Inc: 'ambiguous', Ltd: 'ambiguous', Co: 'ambiguous', Corp: 'ambiguous', Bros: 'ambiguous',
  Jr: 'ambiguous', Sr: 'ambiguous', 'Ph.D': 'ambiguous', 'M.D': 'ambiguous', 'B.A': 'ambiguous',
  'M.A': 'ambiguous', 'B.Sc': 'ambiguous', 'M.Sc': 'ambiguous', Ave: 'ambiguous', Blvd: 'ambiguous',
  Rd: 'ambiguous', Dept: 'ambiguous', Univ: 'ambiguous', Assn: 'ambiguous', 'a.k.a': 'ambiguous',
  Mfg: 'ambiguous', Bldg: 'ambiguous', Hwy: 'ambiguous',
  // US states, as newspapers abbreviate them.
  Ala: 'ambiguous', Ariz: 'ambiguous', Ark: 'ambiguous', Calif: 'ambiguous', Colo: 'ambiguous',
  Conn: 'ambiguous', Del: 'ambiguous', Fla: 'ambiguous', Ga: 'ambiguous', Ill: 'ambiguous',
  Ind: 'ambiguous', Kan: 'ambiguous', Ky: 'ambiguous', La: 'ambiguous', Md: 'ambiguous',
  Mass: 'ambiguous', Mich: 'ambiguous', Minn: 'ambiguous', Mo: 'ambiguous', Mont: 'ambiguous',
  Neb: 'ambiguous', Nev: 'ambiguous', Okla: 'ambiguous', Ore: 'ambiguous', Pa: 'ambiguous',
  Tenn: 'ambiguous', Tex: 'ambiguous', Va: 'ambiguous', Vt: 'ambiguous', Wash: 'ambiguous',
  Wis: 'ambiguous', Wyo: 'ambiguous',
  // Usually at the end of a list: a capital after them starts a new sentence.
  etc: 'final', al: 'final',
};

/**
 * Words that typically open an English sentence: after an `ambiguous` abbreviation or an
 * initial ("... moved to the U.S. He ...", "Neither did I. Then ..."), they mark a boundary.
 */
export const SENTENCE_STARTERS: ReadonlySet<string> = new Set(
  (
    'A An The This That These Those There Then Thus Here He She It We They I You His Her Its Our ' +
    'Their My Your But And Or So Yet However Still Also In On At For From After Before When While ' +
    'If As Although Though Because Since Once Now Today Yesterday Tomorrow Meanwhile Later Some ' +
    'Many Most All Each Every No Not None Nothing One Two Three What Who Why How Where Which ' +
    'Is Are Was Were Do Does Did Has Have Had Can Could Will Would Should Shall May Might Must ' +
    'Let Please Yes Finally First Second Next Last Instead Indeed Moreover Furthermore Nevertheless'
  ).split(' '),
);

export interface AbbreviationTable {
  lookup(token: string): AbbreviationKind | undefined;
}

/** A case-aware lookup over `entries` (see {@link DEFAULT_ABBREVIATIONS} for the matching). */
export function abbreviationTable(entries: Readonly<Record<string, AbbreviationKind>>): AbbreviationTable {
  const map = new Map<string, AbbreviationKind>();
  for (const [key, kind] of Object.entries(entries)) {
    map.set(key, kind);
    if (key === key.toLowerCase() && key.length > 1) {
      const capital = key.charAt(0).toUpperCase() + key.slice(1);
      if (!map.has(capital)) map.set(capital, kind);
    }
  }
  return { lookup: (token) => map.get(token) };
}
