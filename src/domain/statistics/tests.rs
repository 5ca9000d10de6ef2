use super::*;

fn one(text: &str) -> Mention {
    let all = extract(text);
    assert_eq!(all.len(), 1, "{text:?}: {all:#?}");
    all.into_iter().next().unwrap()
}

fn value(s: &str) -> Ratio {
    Ratio::parse_decimal(s).unwrap()
}

#[test]
fn scale_words_fold_into_exact_values() {
    let m = one("It will cost $4 billion to build.");
    assert_eq!(
        (m.exact.as_str(), m.value.to_string()),
        ("$4 billion", "4000000000".into())
    );
    assert_eq!(m.unit, Unit::Currency("USD".into()));
    assert_eq!(m.scale.as_deref(), Some("billion"));
    assert_eq!(one("a $4bn plan").value, value("4000000000"));
    assert_eq!(one("US$19.5 million in aid").value, value("19500000"));
    assert_eq!(one("US$19.5 million in aid").exact, "US$19.5 million");
    assert_eq!(one("€2.5bn").unit, Unit::Currency("EUR".into()));
    assert_eq!(one("10k marchers").value, value("10000"));
    assert_eq!(one("0.1 percent").value.to_string(), "0.1");
    assert_eq!(one("4 billion dollars").unit, Unit::Currency("USD".into()));
    assert_eq!(one("500 pesos").unit, Unit::Currency("MXN".into()));
}

#[test]
fn a_hard_wrap_or_no_break_space_is_one_gap() {
    let m = one("the $500\nmillion loan");
    assert_eq!(
        (m.exact.as_str(), m.value),
        ("$500\nmillion", value("500000000"))
    );
    let m = one("rose 1\u{00A0}percent");
    assert_eq!(
        (m.exact.as_str(), m.unit),
        ("1\u{00A0}percent", Unit::Percent)
    );
}

#[test]
fn percent_forms_and_percentage_points_stay_apart() {
    for text in ["15%", "15 percent", "15 per cent"] {
        let m = one(text);
        assert_eq!((m.value, &m.unit), (value("15"), &Unit::Percent), "{text}");
    }
    assert_eq!(one("up 2 percentage points").unit, Unit::PercentagePoints);
}

#[test]
fn qualifiers_are_kept() {
    for (text, q) in [
        ("about 15 percent", Qualifier::Approximate),
        ("around 15 percent", Qualifier::Approximate),
        ("roughly 15 percent", Qualifier::Approximate),
        ("nearly 700,000 people", Qualifier::Approximate),
        ("an estimated 6,000 visas", Qualifier::Approximate),
        ("more than 700,000 displaced", Qualifier::LowerBound),
        ("at least 12 people", Qualifier::LowerBound),
        ("over 300 families", Qualifier::LowerBound),
        ("fewer than 10 cases", Qualifier::UpperBound),
        ("up to $5 million", Qualifier::UpperBound),
        ("exactly 6,000 visas", Qualifier::Exact),
    ] {
        assert_eq!(one(text).qualifier, q, "{text}");
    }
    assert_eq!(
        one("more than 700,000 displaced").exact,
        "more than 700,000"
    );
}

#[test]
fn ranges_keep_both_ends() {
    let m = one("4,000 to 6,000 visas");
    assert_eq!((m.value, m.high), (value("4000"), Some(value("6000"))));
    let m = one("between 2 and 5 percent");
    assert_eq!(
        (m.value, m.high, &m.unit),
        (value("2"), Some(value("5")), &Unit::Percent)
    );
    let m = one("$10,000 to $15,000 each");
    assert_eq!((m.value, m.high), (value("10000"), Some(value("15000"))));
    assert_eq!(m.unit, Unit::Currency("USD".into()));
    let m = one("4 to 6 billion dollars");
    assert_eq!(
        (m.value, m.high),
        (value("4000000000"), Some(value("6000000000")))
    );
    let m = one("4,000-6,000 workers");
    assert_eq!(m.high, Some(value("6000")));
}

#[test]
fn words_and_fractions_are_numbers() {
    assert_eq!(one("two-thirds of voters").value, Ratio::new(2, 3).unwrap());
    assert_eq!(one("a quarter of them").value, Ratio::new(1, 4).unwrap());
    assert_eq!(
        one("one-fifth of the budget").value,
        Ratio::new(1, 5).unwrap()
    );
    assert_eq!(one("half of the families").value, Ratio::new(1, 2).unwrap());
    assert_eq!(one("a dozen towns").value, value("12"));
    assert_eq!(one("ten towns").value, value("10"));
    assert_eq!(one("twenty-five towns").value, value("25"));
    assert_eq!(one("a million people").value, value("1000000"));
    let m = one("hundreds of thousands of people");
    assert_eq!(
        (m.kind, m.exact.as_str()),
        (Kind::Vague, "hundreds of thousands")
    );
    assert_eq!(one("millions of dollars").kind, Kind::Vague);
}

#[test]
fn years_dates_ordinals_and_lists_are_not_quantities() {
    assert_eq!(one("in 2017 the program").kind, Kind::Year);
    assert_eq!(one("fiscal year 2021").kind, Kind::Year);
    assert_eq!(one("on March 3, 2021 it").kind, Kind::Date);
    assert_eq!(one("on 3 March it").kind, Kind::Date);
    assert_eq!(one("the 21st century").kind, Kind::Ordinal);
    assert_eq!(one("1. First item").kind, Kind::ListNumber);
    assert_eq!(one("2,017 people").kind, Kind::Quantity);
}

#[test]
fn names_and_phone_numbers_hold_no_figure() {
    for text in [
        "the H-2B program",
        "during COVID-19",
        "the G20 summit",
        "call 555-123-4567",
    ] {
        assert_eq!(extract(text), vec![], "{text}");
    }
}

#[test]
fn what_it_is_of_and_who_says_so() {
    let m = one(
        "Remittances are about 15 percent of Guatemala's economy, according to the central bank.",
    );
    assert_eq!(m.of.as_deref(), Some("of Guatemala's economy"));
    assert_eq!(
        m.attribution.as_deref(),
        Some("according to the central bank")
    );
    let text = "Intro line. Remittances are about 15 percent of GDP, officials said. After.";
    let m = one(text);
    assert_eq!(
        m.sentence,
        "Remittances are about 15 percent of GDP, officials said."
    );
    assert_eq!(m.prefix, "Intro line. Remittances are ");
    assert_eq!(m.suffix, " of GDP, officials said. After.");
    let m = one("The World Bank estimates $19 billion in remittances.");
    assert_eq!(m.attribution.as_deref(), Some("The World Bank estimates"));
    let m = one("Officials said 6,000 visas were issued.");
    assert_eq!(m.attribution.as_deref(), Some("Officials said"));
    let m = one("A report by the Inter-American Development Bank found 40 percent.");
    assert_eq!(
        m.attribution.as_deref(),
        Some("A report by the Inter-American Development Bank")
    );
}

#[test]
fn spans_are_code_points() {
    let text = "Patzún – “$4 billion”";
    let m = one(text);
    let at: String = text.chars().skip(m.start).take(m.end - m.start).collect();
    assert_eq!(at, m.exact);
    assert_eq!(m.exact, "$4 billion");
    let text = "😀 up 15%";
    let m = one(text);
    assert_eq!((m.start, m.start_utf16, m.end_utf16), (5, 6, 9));
}

#[test]
fn a_sign_against_the_figure_is_kept() {
    assert_eq!(one("shrank by -0.3%").value.to_string(), "-0.3");
    assert_eq!(one("shrank by -0.3%").exact, "-0.3%");
    assert_eq!(one("fell to \u{2212}3 percent").value.to_string(), "-3");
    assert_eq!(one("4,000-6,000 workers").value.to_string(), "4000");
}

#[test]
fn a_query_matches_the_same_quantity_in_any_form() {
    let q = TraceQuery::parse("$4bn").unwrap();
    for text in [
        "$4 billion",
        "4 billion dollars",
        "US$4,000 million",
        "$4,000,000,000",
    ] {
        assert_eq!(q.matches(&one(text)), Some(Match::Exact), "{text}");
    }
    assert_eq!(q.matches(&one("$4 million")), None);
    assert_eq!(q.matches(&one("€4 billion")), None, "another currency");
    assert_eq!(
        q.matches(&one("about $4.1 billion")),
        Some(Match::Approximate)
    );
    assert_eq!(
        q.matches(&one("$4.1 billion")),
        None,
        "no stated approximation"
    );
    assert_eq!(q.matches(&one("about $4.5 billion")), None, "beyond 5%");
    assert_eq!(
        q.matches(&one("$3 billion to $5 billion")),
        Some(Match::InRange)
    );
    let pct = TraceQuery::parse("15 per cent").unwrap();
    assert_eq!(pct.matches(&one("around 15 percent")), Some(Match::Exact));
    assert_eq!(pct.matches(&one("15 percentage points")), None);
    assert_eq!(pct.matches(&one("in 2015")), None);
    let range = TraceQuery::parse("4,000 to 6,000").unwrap();
    assert_eq!(range.matches(&one("5,000 visas")), Some(Match::InRange));
    assert_eq!(range.matches(&one("4,000-6,000")), Some(Match::Exact));
    assert!(TraceQuery::parse("no figure here, only 2019").is_none());
    let (lo, hi) = q.bounds();
    assert_eq!(
        (lo.to_string(), hi.to_string()),
        ("3800000000".into(), "4200000000".into())
    );
}

#[test]
fn pronouns_abbreviated_dates_and_ratios() {
    assert_eq!(extract("one of the poorest regions"), vec![]);
    assert_eq!(extract("the one played by Biden"), vec![]);
    assert_eq!(one("one million doses").value, value("1000000"));
    assert_eq!(one("on Dec. 29 the accord").kind, Kind::Date);
    let m = one("almost 1 in 10 people");
    assert_eq!(
        (m.exact.as_str(), m.value),
        ("almost 1 in 10", Ratio::new(1, 10).unwrap())
    );
    assert_eq!(m.qualifier, Qualifier::Approximate);
    assert_eq!(one("seven hours").value, value("7"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// "1234567" written with thousands separators: "1,234,567".
    fn grouped(n: u64) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    proptest! {
        /// A figure written in any supported form reads back as its exact value and unit,
        /// whatever white space separates it from its scale word.
        #[test]
        fn a_written_figure_reads_back_as_its_value(
            int in 0u64..5_000_000,
            frac in proptest::option::of(1u32..100),
            form in 0usize..8,
            gap in prop::sample::select(vec![" ", "\n", "\u{a0}"]),
        ) {
            let written = match frac {
                Some(f) => format!("{}.{f:02}", grouped(int)),
                None => grouped(int),
            };
            let exact = Ratio::parse_decimal(&written.replace(',', "")).unwrap();
            let scaled = |p: u32| exact.checked_mul(Ratio::integer(10i128.pow(p))).unwrap();
            let usd = Unit::Currency("USD".into());
            let (text, value, unit, qualifier) = match form {
                0 => (written.clone(), exact, Unit::Count, Qualifier::Exact),
                1 => (format!("${written}"), exact, usd, Qualifier::Exact),
                2 => (format!("${written}{gap}billion"), scaled(9), usd, Qualifier::Exact),
                3 => (format!("{written}{gap}million dollars"), scaled(6), usd, Qualifier::Exact),
                4 => (format!("{written}%"), exact, Unit::Percent, Qualifier::Exact),
                5 => (format!("{written}{gap}per cent"), exact, Unit::Percent, Qualifier::Exact),
                6 => (format!("€{written}bn"), scaled(9), Unit::Currency("EUR".into()), Qualifier::Exact),
                _ => (format!("about {written}{gap}percent"), exact, Unit::Percent, Qualifier::Approximate),
            };
            // Four digits and more are written grouped ("2,019"), so none reads as a year.
            let sentence = format!("The figure was {text} last week.");
            let found: Vec<Mention> =
                extract(&sentence).into_iter().filter(|m| m.kind == Kind::Quantity).collect();
            prop_assert_eq!(found.len(), 1, "{:?}: {:?}", sentence, found);
            prop_assert_eq!(found[0].value, value);
            prop_assert_eq!(&found[0].unit, &unit);
            prop_assert_eq!(found[0].qualifier, qualifier);
            prop_assert_eq!(&found[0].exact, &text);
        }
    }
}

/// (exact, value, high, unit key, kind) of every mention, for the neighbour cases below.
fn figures(text: &str) -> Vec<(String, String, Option<String>, String, Kind)> {
    extract(text)
        .into_iter()
        .map(|m| {
            (
                m.exact,
                m.value.to_string(),
                m.high.map(|h| h.to_string()),
                m.unit.key(),
                m.kind,
            )
        })
        .collect()
}

fn fig(exact: &str, v: &str, unit: &str) -> (String, String, Option<String>, String, Kind) {
    (exact.into(), v.into(), None, unit.into(), Kind::Quantity)
}

#[test]
fn a_figure_never_takes_its_neighbours_scale_or_unit() {
    assert_eq!(
        figures("rose from $800,000 to $1.3 million"),
        [
            fig("$800,000", "800000", "currency:USD"),
            fig("$1.3 million", "1300000", "currency:USD")
        ]
    );
    assert_eq!(
        figures("profit dropped 7% to $2.3 billion"),
        [
            fig("7%", "7", "percent"),
            fig("$2.3 billion", "2300000000", "currency:USD")
        ]
    );
    let rose = figures("sales rose 60% in 2018 to 3.9 million");
    assert_eq!(rose[0], fig("60%", "60", "percent"));
    assert_eq!((rose[1].1.as_str(), rose[1].4), ("2018", Kind::Year));
    assert_eq!(rose[2], fig("3.9 million", "3900000", "count"));
    // A change and the level it reached stay two figures.
    assert_eq!(
        figures("shares were up 9.4 per cent to $84"),
        [
            fig("9.4 per cent", "9.4", "percent"),
            fig("$84", "84", "currency:USD")
        ]
    );
    // "from … to" after a word of change is a change, in either direction; else a range.
    assert_eq!(figures("fell from $2,415 to $2,315").len(), 2);
    assert_eq!(figures("went from 4 to 6 billion").len(), 2);
    assert_eq!(figures("was cut from 300 to 400 staff").len(), 2);
    let m = one("estimates ranging from 4,000 to 6,000 workers");
    assert_eq!((m.value, m.high), (value("4000"), Some(value("6000"))));
    let m = one("it costs anywhere from $10,000 to $15,000 a trip");
    assert_eq!((m.value, m.high), (value("10000"), Some(value("15000"))));
}

#[test]
fn ranges_and_alternatives_are_one_expression() {
    let m = one("between the ages of 15 and 25");
    assert_eq!((m.value, m.high), (value("15"), Some(value("25"))));
    let m = one("seven or eight hours");
    assert_eq!((m.value, m.high), (value("7"), Some(value("8"))));
    assert_eq!(figures("3 or 300 people").len(), 2);
    let years = figures("between 1600 and 1900");
    assert_eq!(
        years
            .iter()
            .map(|f| (f.1.as_str(), f.4))
            .collect::<Vec<_>>(),
        [("1600", Kind::Year), ("1900", Kind::Year)]
    );
}

#[test]
fn decimals_signs_and_scales_as_written() {
    let m = one("a rise of .001 per cent");
    assert_eq!(
        (m.exact.as_str(), m.value, &m.unit),
        (".001 per cent", value("0.001"), &Unit::Percent)
    );
    assert_eq!(one("it reached minus 387").value, Ratio::integer(-387));
    let m = one("4 hundred million people");
    assert_eq!(
        (m.value, m.scale.as_deref()),
        (value("400000000"), Some("hundred million"))
    );
}

#[test]
fn times_scores_and_names_are_not_figures() {
    assert!(extract("The session opened at 9:35 and closed at 17:05.").is_empty());
    assert!(extract("They won 2-1 after a 7-2 ruling.").is_empty());
    assert!(extract("the iPhone 11 launch").is_empty());
    let m = one("the S&P 500 rose 2%");
    assert_eq!((m.value, m.unit), (value("2"), Unit::Percent));
    // An ascending pair is still a range.
    assert_eq!(one("ages 15-18").high, Some(value("18")));
}

#[test]
fn currencies_glued_prefixed_and_named() {
    let m = one("a USD10m fund");
    assert_eq!(
        (m.value, &m.unit),
        (value("10000000"), &Unit::Currency("USD".into()))
    );
    assert_eq!(one("priced at RM79").unit, Unit::Currency("MYR".into()));
    let m = one("debts of $US113 trillion");
    assert_eq!(
        (m.exact.as_str(), m.value),
        ("$US113 trillion", value("113000000000000"))
    );
    assert_eq!(m.unit, Unit::Currency("USD".into()));
    let m = one("HK$3.7 billion");
    assert_eq!(
        (m.exact.as_str(), &m.unit),
        ("HK$3.7 billion", &Unit::Currency("HKD".into()))
    );
    assert_eq!(one("333.6 million yen").unit, Unit::Currency("JPY".into()));
    assert_eq!(one("18.97 yuan").unit, Unit::Currency("CNY".into()));
    assert_eq!(one("300 lempiras").unit, Unit::Currency("HNL".into()));
    let m = one("inflation of 1.38pc");
    assert_eq!((m.value, &m.unit), (value("1.38"), &Unit::Percent));
    // Metres beside their conversion are not millions.
    let both = extract("a 37m (121ft)-long hull");
    let read: Vec<_> = both
        .iter()
        .map(|m| (m.exact.as_str(), m.value, &m.unit))
        .collect();
    assert_eq!(
        read,
        [
            ("37m", value("37"), &length("metre")),
            ("121ft", value("121"), &length("foot"))
        ]
    );
}

#[test]
fn durations_have_units_and_ages_stand_apart() {
    let year = Unit::Duration("year".into());
    let m = one("more than 10 years ago");
    assert_eq!(
        (m.value, &m.unit, m.qualifier),
        (value("10"), &year, Qualifier::LowerBound)
    );
    assert_eq!(
        one("over the past two months").unit,
        Unit::Duration("month".into())
    );
    let m = one("a two-day trip");
    assert_eq!(
        (m.value, &m.unit, m.kind),
        (value("2"), &Unit::Duration("day".into()), Kind::Quantity)
    );
    for text in ["the 78-year-old", "she is 78 years old", "aged 78"] {
        let m = one(text);
        assert_eq!(
            (m.value, &m.unit, m.kind),
            (value("78"), &year, Kind::Age),
            "{text}"
        );
    }
    assert_eq!(Unit::from_key(&year.key()), Some(year));
}

#[test]
fn vague_amounts_keep_their_magnitude_and_unit() {
    let m = one("hundreds of thousands of doses");
    assert_eq!(
        (m.kind, m.value, &m.unit),
        (Kind::Vague, value("100000"), &Unit::Count)
    );
    assert_eq!(m.exact, "hundreds of thousands");
    let m = one("millions of dollars in aid");
    assert_eq!(
        (m.kind, m.value, &m.unit),
        (Kind::Vague, value("1000000"), &Unit::Currency("USD".into()))
    );
}

#[test]
fn fractions_and_dates_are_whole() {
    let m = one("2/3 of voters");
    assert_eq!(
        (m.value, m.of.as_deref()),
        (Ratio::new(2, 3).unwrap(), Some("of voters"))
    );
    let m = one("add 1/2 pound of flour");
    assert_eq!(
        (m.value, &m.unit),
        (Ratio::new(1, 2).unwrap(), &Unit::Count)
    );
    assert!(
        extract("open 24/7")
            .iter()
            .all(|m| m.value != Ratio::new(24, 7).unwrap())
    );
    let m = one("on Dec. 28, 2018");
    assert_eq!((m.exact.as_str(), m.kind), ("Dec. 28, 2018", Kind::Date));
    assert!(extract("on 12/25/2020").is_empty());
}

#[test]
fn compound_number_words_are_one_number() {
    let m = one("twenty-eight thousand six hundred forty-two people");
    assert_eq!(
        (m.value, m.exact.as_str()),
        (
            value("28642"),
            "twenty-eight thousand six hundred forty-two"
        )
    );
    assert_eq!(one("one hundred and five days").value, value("105"));
    assert_eq!(
        one("six hundred forty-two million dollars").value,
        value("642000000")
    );
    // A plain scale word stays the scale.
    let m = one("two million people");
    assert_eq!(
        (m.value, m.scale.as_deref()),
        (value("2000000"), Some("million"))
    );
}

#[test]
fn what_a_figure_counts_is_its_of() {
    assert_eq!(
        one("6,000 H-2B visas were issued").of.as_deref(),
        Some("H-2B visas")
    );
    assert_eq!(one("$310 million in aid").of.as_deref(), Some("in aid"));
    assert_eq!(extract("$310 million in 2019 money")[0].of, None);
    assert_eq!(one("rose 12 percent last year").of, None);
}

fn length(name: &str) -> Unit {
    Unit::Length(name.into())
}

/// Units of measurement come from the generated lexicon, by name, symbol, glued to the number
/// or hyphened into one word, with the number's value as written (issue 18).
#[test]
fn units_of_measurement_are_read_by_name_symbol_and_glued() {
    for (text, exact, v, unit) in [
        ("a 5 km walk", "5 km", "5", length("kilometre")),
        ("ran 26.2 miles", "26.2 miles", "26.2", length("mile")),
        ("the 1.5km stretch", "1.5km", "1.5", length("kilometre")),
        ("a 10-mile run", "10-mile", "10", length("mile")),
        ("a 20-foot-high wall", "20-foot-high", "20", length("foot")),
        ("a 12in pizza", "12in", "12", length("inch")),
        (
            "a 3,000-square-foot house",
            "3,000-square-foot",
            "3000",
            Unit::Area("square foot".into()),
        ),
        (
            "burned 40,000 acres",
            "40,000 acres",
            "40000",
            Unit::Area("acre".into()),
        ),
        (
            "about 2 million barrels",
            "about 2 million barrels",
            "2000000",
            Unit::Volume("barrel".into()),
        ),
        (
            "a 1.5 kg bag",
            "1.5 kg",
            "1.5",
            Unit::Mass("kilogram".into()),
        ),
        (
            "50 metric tons of food",
            "50 metric tons",
            "50",
            Unit::Mass("tonne".into()),
        ),
        (
            "at 50mph",
            "50mph",
            "50",
            Unit::Speed("mile per hour".into()),
        ),
        (
            "gusts of 120 kilometres per hour",
            "120 kilometres per hour",
            "120",
            Unit::Speed("kilometre per hour".into()),
        ),
        (
            "reached 72 degrees Fahrenheit",
            "72 degrees Fahrenheit",
            "72",
            Unit::Temperature("degree fahrenheit".into()),
        ),
        (
            "a high of 30 °C today",
            "30 °C",
            "30",
            Unit::Temperature("degree Celsius".into()),
        ),
        (
            "a 256GB phone",
            "256GB",
            "256",
            Unit::DataSize("gigabyte".into()),
        ),
        (
            "used 400 kWh last month",
            "400 kWh",
            "400",
            Unit::Energy("kilowatt hour".into()),
        ),
    ] {
        let m = one(text);
        assert_eq!(
            (m.exact.as_str(), m.value, &m.unit, m.kind),
            (exact, value(v), &unit, Kind::Quantity),
            "{text}"
        );
        assert_eq!(
            Unit::from_key(&m.unit.key()),
            Some(m.unit.clone()),
            "{text}"
        );
    }
}

/// A symbol that is also a word, a letter or a scale is not read as a unit apart from its
/// number; and a unit never changes the number's value.
#[test]
fn unit_symbols_that_are_words_or_scales_stay_what_they_are() {
    let all = extract("1 in 10 voters");
    assert!(all.iter().all(|m| m.unit.measure().is_none()), "{all:#?}");
    assert_eq!(one("a $5m grant").value, value("5000000"));
    assert_eq!(one("4K screens").unit.measure(), None);
    assert_eq!(one("won 5 m on the lottery").unit.measure(), None);
    assert_eq!(one("the 72 F-16 jets").unit.measure(), None);
    assert_eq!(Unit::from_key("length:furlongs"), None);
    assert_eq!(Unit::from_key("weight:kilogram"), None);
}
