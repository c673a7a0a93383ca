//! The names a season's directory holds: companies, venues, festivals, networks and
//! local authorities, with disciplines that fit them and web addresses made from them.
//!
//! A name comes from a [`Pattern`] with at most one placeholder: `{de}` is the commune
//! after "de" ("de Sète", "d'Agde", "du Vigan"), `{à}` after "à" ("à Sète", "au Vigan"),
//! `{dept}` the département after "de" ("de l'Hérault"), `{core}` a company's word
//! ("Lune Rousse"), `{of}` a complement ("du Pont Neuf"), `{person}` an artist's name.
//! No list holds a digit: the demo must not read like numbered test data.

use domain::Discipline::{
    self, Circus, Dance, Multidisciplinary, Music, Puppetry, StreetArts, Theatre,
};
use domain::search::fold;
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

pub struct Pattern {
    pub name: &'static str,
    /// The legal name, when it is not the name (same placeholder).
    pub legal: Option<&'static str>,
    /// Start of the web address (ASCII); the slug of what fills the placeholder, or of
    /// the commune when there is none, follows it.
    pub site: &'static str,
    /// One of these is the structure's discipline…
    pub main: &'static [Discipline],
    /// …and up to two of these come with it.
    pub extras: &'static [Discipline],
    /// How often it is drawn against the others of its list.
    pub weight: u32,
}

const fn p(
    name: &'static str,
    site: &'static str,
    main: &'static [Discipline],
    extras: &'static [Discipline],
) -> Pattern {
    Pattern {
        name,
        legal: None,
        site,
        main,
        extras,
        weight: 1,
    }
}

/// A pattern drawn `weight` times as often as the others: most companies are a
/// "Compagnie".
const fn often(mut pattern: Pattern, weight: u32) -> Pattern {
    pattern.weight = weight;
    pattern
}

const fn legal(mut pattern: Pattern, legal: &'static str) -> Pattern {
    pattern.legal = Some(legal);
    pattern
}

pub const COMPANIES: &[Pattern] = &[
    often(
        p(
            "Compagnie {core}",
            "cie",
            &[Theatre, Dance, Circus, StreetArts, Puppetry],
            &[Music, Theatre],
        ),
        6,
    ),
    often(
        p(
            "Compagnie {of}",
            "cie",
            &[Theatre, Puppetry, Dance],
            &[Music],
        ),
        2,
    ),
    often(
        p("Théâtre {of}", "theatre", &[Theatre], &[Puppetry, Music]),
        2,
    ),
    often(
        p("Compagnie {person}", "cie", &[Dance, Theatre], &[Music]),
        3,
    ),
    often(
        p(
            "Collectif {core}",
            "collectif",
            &[Theatre, StreetArts, Dance],
            &[Music, Circus],
        ),
        2,
    ),
    p("Cirque {core}", "cirque", &[Circus], &[StreetArts, Music]),
    p("Ensemble {core}", "ensemble", &[Music], &[Dance]),
    p("Quatuor {core}", "quatuor", &[Music], &[]),
    p("Fanfare {core}", "fanfare", &[Music], &[StreetArts]),
    p("Marionnettes {of}", "marionnettes", &[Puppetry], &[Theatre]),
    p("Orchestre de chambre {de}", "orchestre", &[Music], &[]),
    p("Les Funambules", "funambules", &[Circus], &[StreetArts]),
    p(
        "Les Batteurs de pavé",
        "batteurs-de-pave",
        &[StreetArts],
        &[Music],
    ),
    p("Les Baladins", "baladins", &[Theatre], &[StreetArts]),
    p("Les Voltigeurs", "voltigeurs", &[Circus], &[Dance]),
    p("Les Pieds nus", "pieds-nus", &[Dance], &[Music]),
];

pub const VENUES: &[Pattern] = &[
    often(
        p(
            "Théâtre {de}",
            "theatre",
            &[Theatre],
            &[Dance, Music, Puppetry, Circus],
        ),
        3,
    ),
    p(
        "Théâtre municipal {de}",
        "theatre",
        &[Theatre],
        &[Music, Dance],
    ),
    p("Auditorium {de}", "auditorium", &[Music], &[Dance]),
    p("Scène de musiques actuelles {de}", "smac", &[Music], &[]),
    p(
        "Espace chapiteaux {de}",
        "chapiteaux",
        &[Circus],
        &[StreetArts],
    ),
    p(
        "Cinéma-théâtre {de}",
        "cinema-theatre",
        &[Theatre],
        &[Music],
    ),
    p(
        "La Halle aux grains",
        "halle-aux-grains",
        &[Music, Theatre],
        &[Dance],
    ),
    p("La Minoterie", "minoterie", &[Theatre], &[Puppetry, Music]),
    p("Le Chai", "le-chai", &[Music], &[Theatre]),
    p("La Filature", "filature", &[Dance, Theatre], &[Music]),
    p("La Verrerie", "verrerie", &[Circus], &[StreetArts, Theatre]),
    p("La Cave à musiques", "cave-a-musiques", &[Music], &[]),
    p("La Manufacture", "manufacture", &[Theatre], &[Dance]),
    p("La Chapelle", "chapelle", &[Music], &[Theatre]),
];

/// Where a village has a stage.
pub const VILLAGE_VENUES: &[Pattern] = &[
    p(
        "Salle des fêtes {de}",
        "salle-des-fetes",
        &[Music, Theatre],
        &[Dance],
    ),
    p(
        "Foyer rural {de}",
        "foyer-rural",
        &[Theatre, Music],
        &[Dance, Puppetry],
    ),
    p("La Grange", "la-grange", &[Theatre], &[Music, Circus]),
];

pub const FESTIVALS: &[Pattern] = &[
    p(
        "Festival de théâtre {de}",
        "festival-theatre",
        &[Theatre],
        &[StreetArts],
    ),
    p("Jazz {à}", "jazz", &[Music], &[]),
    p("Festival de jazz {de}", "festival-jazz", &[Music], &[]),
    p("Les Nuits musicales {de}", "nuits-musicales", &[Music], &[]),
    p(
        "Festival des arts de la rue {de}",
        "arts-de-la-rue",
        &[StreetArts],
        &[Circus, Music],
    ),
    p(
        "Rencontres chorégraphiques {de}",
        "rencontres-danse",
        &[Dance],
        &[Music],
    ),
    p(
        "Festival de marionnettes {de}",
        "marionnettes",
        &[Puppetry],
        &[Theatre],
    ),
    p(
        "Festival de cirque {de}",
        "festival-cirque",
        &[Circus],
        &[StreetArts],
    ),
    p(
        "Printemps des arts {de}",
        "printemps-des-arts",
        &[Multidisciplinary],
        &[Music, Theatre, Dance],
    ),
    p(
        "Les Estivales {de}",
        "estivales",
        &[Music],
        &[Theatre, StreetArts],
    ),
    p(
        "Festival jeune public {de}",
        "jeune-public",
        &[Theatre],
        &[Puppetry, Circus],
    ),
    p(
        "Festival {core}",
        "festival",
        &[Multidisciplinary, Music],
        &[StreetArts, Circus],
    ),
];

/// Networks of a département (of the commune's, outside Occitanie).
pub const NETWORKS: &[Pattern] = &[
    p(
        "Réseau des scènes {dept}",
        "reseau-scenes",
        &[Multidisciplinary],
        &[Theatre, Music, Dance],
    ),
    p(
        "Réseau jeune public {dept}",
        "reseau-jeune-public",
        &[Theatre],
        &[Puppetry],
    ),
    p(
        "Collectif des festivals {dept}",
        "festivals",
        &[Multidisciplinary],
        &[Music, StreetArts],
    ),
    p(
        "Fédération des musiques actuelles {dept}",
        "musiques-actuelles",
        &[Music],
        &[],
    ),
    p("Pôle danse {dept}", "pole-danse", &[Dance], &[]),
    p(
        "Union des arts de la rue {dept}",
        "arts-de-la-rue",
        &[StreetArts],
        &[Circus],
    ),
];

const AUTHORITY_EXTRAS: &[Discipline] = &[Theatre, Music, Dance];
pub const CITY: Pattern = legal(
    p(
        "Ville {de}",
        "ville",
        &[Multidisciplinary],
        AUTHORITY_EXTRAS,
    ),
    "Commune {de}",
);
pub const TOWN_HALL: Pattern = legal(
    p(
        "Mairie {de}",
        "mairie",
        &[Multidisciplinary],
        AUTHORITY_EXTRAS,
    ),
    "Commune {de}",
);
pub const COMMUNITY: Pattern = p(
    "Communauté de communes du Pays {de}",
    "cc-pays",
    &[Multidisciplinary],
    AUTHORITY_EXTRAS,
);
pub const DEPARTMENT_COUNCIL: Pattern = legal(
    p(
        "Conseil départemental {dept}",
        "",
        &[Multidisciplinary],
        AUTHORITY_EXTRAS,
    ),
    "Département {dept}",
);

const CORES: &[&str] = &[
    "Lune Rousse",
    "Vent Debout",
    "Fil Tendu",
    "Grand Écart",
    "Petits Pas",
    "Mistral",
    "Garance",
    "Tramontane",
    "Envolée",
    "Ô Cerises",
    "Mains Nues",
    "Cri du Chœur",
    "Pierre Sèche",
    "Oiseau Lyre",
    "Hasard",
    "Cerf-Volant",
    "Bel Ouvrage",
    "Bout du Monde",
    "L'Œil du Cyclone",
    "Lézard Vert",
    "Arbre à Palabres",
    "Nuit Blanche",
    "Caméléon",
    "Sans Filet",
    "Haut Perché",
    "Pied de Nez",
    "Grain de Sel",
    "Tête de Mule",
    "Belle Échappée",
    "Poivre et Sel",
    "Lucane",
    "Mirabelle",
    "Cigale",
    "Garrigue",
    "Vent d'Autan",
    "Ostal",
    "Ciel Ouvert",
    "Tambour Battant",
    "Fine Équipe",
    "Rouge-Gorge",
    "Contre-Jour",
    "Demi-Lune",
    "Entre-Deux",
    "Hors Champ",
    "Plein Vent",
    "Coquelicot",
    "Libellule",
    "Tournesol",
];

const COMPLEMENTS: &[&str] = &[
    "du Pont Neuf",
    "de l'Arbre Sec",
    "des Quatre Saisons",
    "de la Mezzanine",
    "du Vent",
    "des Chimères",
    "de la Rampe",
    "du Rideau Rouge",
    "des Lucioles",
    "de l'Ourse",
    "du Petit Matin",
    "de la Jetée",
    "du Grenier",
    "des Mots Dits",
    "de l'Esquisse",
    "du Sablier",
    "de la Lanterne",
    "des Cigales",
    "du Bout du Quai",
    "des Trois Mulets",
];

const FIRST_NAMES: &[&str] = &[
    "Hélène", "Claire", "Mathilde", "Camille", "Julien", "Thomas", "Lucie", "Élodie", "Marion",
    "Nicolas", "Sophie", "Pierre", "Inès", "Léa", "Antoine", "Manon", "Jeanne", "Raphaël",
    "Louise", "Bastien", "Margaux", "Yannick", "Agnès", "Rémi",
];

const SURNAMES: &[&str] = &[
    "Azéma",
    "Fabre",
    "Marty",
    "Roux",
    "Cabrol",
    "Vidal",
    "Estève",
    "Rouquette",
    "Sabatier",
    "Bousquet",
    "Teisseire",
    "Delmas",
    "Combes",
    "Maurel",
    "Pujol",
    "Alibert",
    "Gaubert",
    "Rouanet",
    "Barthe",
    "Cazals",
    "Bonnafous",
    "Séguier",
    "Valette",
    "Lacombe",
];

/// Occitanie's départements after "de", as their councils and networks are named.
pub const OCCITANIE_DEPARTMENTS: [(&str, &str); 13] = [
    ("09", "de l'Ariège"),
    ("11", "de l'Aude"),
    ("12", "de l'Aveyron"),
    ("30", "du Gard"),
    ("31", "de la Haute-Garonne"),
    ("32", "du Gers"),
    ("34", "de l'Hérault"),
    ("46", "du Lot"),
    ("48", "de la Lozère"),
    ("65", "des Hautes-Pyrénées"),
    ("66", "des Pyrénées-Orientales"),
    ("81", "du Tarn"),
    ("82", "de Tarn-et-Garonne"),
];

/// The département of `code` after "de", for Occitanie's.
pub fn of_department(code: &str) -> Option<&'static str> {
    OCCITANIE_DEPARTMENTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

fn starts_with_vowel(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| "AEIOUYÀÂÉÈÊÎÏÔŒÛÜ".contains(c))
}

/// "de Sète", "d'Agde", "du Vigan", "des Angles", "de La Grande-Motte".
pub fn de(place: &str) -> String {
    if let Some(rest) = place.strip_prefix("Le ") {
        format!("du {rest}")
    } else if let Some(rest) = place.strip_prefix("Les ") {
        format!("des {rest}")
    } else if starts_with_vowel(place) {
        format!("d'{place}")
    } else {
        format!("de {place}")
    }
}

/// "à Sète", "au Vigan", "aux Angles".
pub fn a(place: &str) -> String {
    if let Some(rest) = place.strip_prefix("Le ") {
        format!("au {rest}")
    } else if let Some(rest) = place.strip_prefix("Les ") {
        format!("aux {rest}")
    } else {
        format!("à {place}")
    }
}

/// A web slug: accents transliterated (Sète → sete, Œil → oeil), lower case, every run
/// of other characters one hyphen.
pub fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in fold(text).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The slug of a complement without its article: "de l'Hérault" → "herault".
fn slug_without_article(text: &str) -> String {
    let bare = ["de la ", "de l'", "des ", "du ", "de ", "d'"]
        .iter()
        .find_map(|article| text.strip_prefix(article))
        .unwrap_or(text);
    slug(bare)
}

/// One pattern of `patterns`, by weight.
pub fn draw<'a>(patterns: &'a [Pattern], rng: &mut impl Rng) -> Option<&'a Pattern> {
    patterns.choose_weighted(rng, |pattern| pattern.weight).ok()
}

/// A structure's name, legal name, disciplines and web host (without its domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub legal_name: Option<String>,
    pub disciplines: Vec<Discipline>,
    pub host: String,
    /// The company's word, complement or artist it was named after, if any.
    pub theme: Option<String>,
}

/// Fills `pattern` for a structure in `commune` (whose département, after "de", is
/// `department` when known: outside Occitanie the commune stands in for it).
pub fn fill(
    pattern: &Pattern,
    commune: &str,
    department: Option<&str>,
    rng: &mut impl Rng,
) -> Named {
    let pick = |list: &[&'static str], rng: &mut _| list.choose(rng).copied().unwrap_or_default();
    let (placeholder, value, value_slug) = if pattern.name.contains("{de}") {
        ("{de}", de(commune), slug(commune))
    } else if pattern.name.contains("{à}") {
        ("{à}", a(commune), slug(commune))
    } else if pattern.name.contains("{dept}") {
        match department {
            Some(department) => (
                "{dept}",
                department.to_owned(),
                slug_without_article(department),
            ),
            None => ("{dept}", de(commune), slug(commune)),
        }
    } else if pattern.name.contains("{core}") {
        let core = pick(CORES, rng);
        ("{core}", core.to_owned(), slug(core))
    } else if pattern.name.contains("{of}") {
        let of = pick(COMPLEMENTS, rng);
        ("{of}", of.to_owned(), slug_without_article(of))
    } else if pattern.name.contains("{person}") {
        let person = format!("{} {}", pick(FIRST_NAMES, rng), pick(SURNAMES, rng));
        let person_slug = slug(&person);
        ("{person}", person, person_slug)
    } else {
        // A venue's own name: the town tells it apart on the web.
        ("", String::new(), slug(commune))
    };
    let put = |text: &str| {
        if placeholder.is_empty() {
            text.to_owned()
        } else {
            text.replace(placeholder, &value)
        }
    };
    let theme = ["{core}", "{of}", "{person}"]
        .contains(&placeholder)
        .then(|| value.clone());
    let host = if pattern.site.is_empty() {
        value_slug
    } else {
        format!("{}-{value_slug}", pattern.site)
    };
    Named {
        name: put(pattern.name),
        legal_name: pattern.legal.map(put),
        disciplines: disciplines(pattern, rng),
        host,
        theme,
    }
}

fn disciplines(pattern: &Pattern, rng: &mut impl Rng) -> Vec<Discipline> {
    let mut chosen: Vec<Discipline> = pattern.main.choose(rng).copied().into_iter().collect();
    let mut extras = pattern.extras.to_vec();
    extras.shuffle(rng);
    let more = rng.random_range(0..=extras.len().min(2));
    chosen.extend(extras.into_iter().take(more));
    chosen.sort();
    chosen.dedup();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_take_their_article() {
        assert_eq!(de("Sète"), "de Sète");
        assert_eq!(de("Agde"), "d'Agde");
        assert_eq!(de("Alès"), "d'Alès");
        assert_eq!(de("Le Vigan"), "du Vigan");
        assert_eq!(de("Les Angles"), "des Angles");
        assert_eq!(de("La Grande-Motte"), "de La Grande-Motte");
        assert_eq!(a("Sète"), "à Sète");
        assert_eq!(a("Le Vigan"), "au Vigan");
        assert_eq!(a("Les Angles"), "aux Angles");
    }

    #[test]
    fn slugs_transliterate_instead_of_dropping_letters() {
        assert_eq!(slug("Sète"), "sete");
        assert_eq!(slug("Nîmes"), "nimes");
        assert_eq!(slug("Bagnols-sur-Cèze"), "bagnols-sur-ceze");
        assert_eq!(slug("Saint-Chély-d'Apcher"), "saint-chely-d-apcher");
        assert_eq!(slug("L'Isle-Jourdain"), "l-isle-jourdain");
        assert_eq!(slug("L'Œil du Cyclone"), "l-oeil-du-cyclone");
        assert_eq!(slug_without_article("de l'Hérault"), "herault");
        assert_eq!(
            slug_without_article("des Hautes-Pyrénées"),
            "hautes-pyrenees"
        );
        assert_eq!(
            slug_without_article("de Tarn-et-Garonne"),
            "tarn-et-garonne"
        );
    }

    #[test]
    fn no_word_list_holds_a_digit_and_every_site_prefix_is_a_slug() {
        let patterns = COMPANIES
            .iter()
            .chain(VENUES)
            .chain(VILLAGE_VENUES)
            .chain(FESTIVALS)
            .chain(NETWORKS)
            .chain([&CITY, &TOWN_HALL, &COMMUNITY, &DEPARTMENT_COUNCIL]);
        for pattern in patterns {
            assert!(
                !pattern.name.contains(|c: char| c.is_numeric()),
                "{}",
                pattern.name
            );
            assert_eq!(slug(pattern.site), pattern.site, "{}", pattern.name);
            assert!(!pattern.main.is_empty(), "{}", pattern.name);
        }
        let words = CORES
            .iter()
            .chain(COMPLEMENTS)
            .chain(FIRST_NAMES)
            .chain(SURNAMES)
            .chain(OCCITANIE_DEPARTMENTS.iter().map(|(_, name)| name));
        for word in words {
            assert!(!word.contains(|c: char| c.is_numeric()), "{word}");
        }
    }
}
