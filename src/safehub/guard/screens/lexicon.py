"""Word classes the screens' features back off to, so that "make" + any drug or "ignore" + any rule is one pattern.

    tag_positions(("how", "do", "i", "make", "a", "pipe", "bomb"), HARM_LEXICON)
    # -> [(3, "<make>"), (6, "<weapon>"), (6, "<*thing>")]
    # features: "<make>", "<weapon>", "<*thing>", "<make>+<weapon>"

A word model sees "make meth" and "make fentanyl" as unrelated; with classes it sees `<make>+<drug>` twice,
and "Why is fentanyl illegal?" as `<drug>` without `<make>`. Every term here is taken from the closed
slot vocabularies the corpora share between their splits (harm_slots.py, lookalike_slots.py),
never from a held-out fragment: tests/guard/test_screens.py checks that each term
occurs in one of them, so the classes add no knowledge the training split did not already have.
Terms are single words or two-word phrases (a phrase wins over its words); a term may carry several
classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import compress

from safehub.guard.screens.text import words

TAG_SPAN = 4  # two classes this many words apart or closer also form a pair feature


def _classes(spec: dict[str, str], coarse: Mapping[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    """term -> ("<class>", ...): each term's classes, and the coarse class of each (see HARM_COARSE)."""
    found: dict[str, list[str]] = {}
    for tag, terms in spec.items():
        for term in terms.split(","):
            term = " ".join(words(term)[-2:])  # tokenized as texts are: "ex-wife" is "ex wife"
            if not term:
                continue
            tags = found.setdefault(term, [])
            for name in (f"<{tag}>", f"<*{coarse[tag]}>" if coarse and tag in coarse else None):
                if name and name not in tags:
                    tags.append(name)
    return {term: tuple(tags) for term, tags in found.items()}


# Coarser classes shared across categories, so that a pattern learned for one harm ("<harm>+<target>": hurt a
# neighbour, scam a pensioner, stalk a journalist) carries over to the others.
HARM_COARSE = {"hurt": "harm", "hack": "harm", "scam": "harm", "harass": "harm", "spy": "harm", "spike": "harm",
               "victim": "target", "mark": "target", "group": "target", "account": "target",
               "weapon": "thing", "malware": "thing", "drug": "thing", "agent": "thing",
               "evade": "cover", "corpse": "cover", "dispose": "cover", "escape": "cover",
               "extremist": "violence", "terror": "violence", "crowd": "violence",
               "steal": "harm", "property": "target"}


HARM_LEXICON = _classes({
    "weapon": "bomb, bombs, explosive, grenade, detonator, silencer, gun, pistol, rifle, shotgun, flamethrower, thermite,"
              "firebomb, booby trap, dart, vest, improvised explosive, molotov, crossbow, machete, switchblade, brass knuckles,"
              "taser, landmine, rocket launcher, ammunition, napalm, assault rifle, silencer",
    "hurt": "kill, murder, stab, shoot, poison, strangle, hurt, injure, maim, torture, drown, kidnap, smother, beat up,"
            "run over, knock out, attack, assault, blind, disfigure, burn alive, set fire, cripple, abduct, acid,"
            "ambush, execute, lynch",
    "victim": "someone, person, neighbour, ex-wife, ex-girlfriend, coworker, stepfather, boss, landlord, classmate, husband,"
              "wife, roommate, teacher, stranger, witness, girlfriend, child, brother-in-law, business partner, ex, stepmother,"
              "cousin, judge, journalist, mother-in-law, employee, girl, woman, man, boy, tenant, protester, celebrity, critic",
    "evade": "caught, traced, trace, noticing, suspect, witnesses, mishap, detection, untraceable, knowing,"
             "get away, evidence, flagged, autopsy, no trace, suspecting, without consent, anonymous",
    "crowd": "crowded, festival, stadium, church, synagogue, station, nightclub, parade, shopping centre, many people,"
             "casualties, primary school",
    "malware": "keylogger, ransomware, trojan, worm, virus, spyware, rootkit, botnet, stealer, cryptojacker, backdoor,"
               "stalkerware, wiper, malware, phishing kit, logic bomb, infostealer, drainer",
    "hack": "hack, hack into, hijack, brute-force, crack, bypass, break into, ddos, deface, sql injection, phish,"
            "unauthorised access, take over",
    "account": "email, instagram, snapchat, icloud, wifi, vpn, server, database, webcam, phone, laptop, wallet, network,"
               "login, password, passwords, facebook, whatsapp, bank account, patient records, police database, cameras,"
               "booking system, smart home, control system",
    "scam": "scam, trick, con, defraud, manipulate, fool, cheat, swindle, deceive, launder, forge, counterfeit, clone,"
            "embezzle, ponzi, phishing, fake, bribe, rig, skim, steal, doctor's note",
    "mark": "elderly, grandmother, widows, pensioners, investors, tourists, lonely",
    "drug": "meth, methamphetamine, mdma, ecstasy, fentanyl, carfentanil, heroin, cocaine, lsd, ghb, ketamine, dmt,"
            "amphetamine, pcp, xanax, speed, mushrooms, mescaline, opium, morphine, oxycodone, adderall, cannabinoids,"
            "nitazenes, rohypnol",
    "make": "make, cook, synthesize, produce, extract, manufacture, brew, build, culture, grow, weaponise, mass-produce,"
            "write",
    "traffic": "sell, smuggle, ship, deal, traffic, distribute, move",
    "spike": "spike, slip, dose",
    "selfharm": "kill myself, suicide, end my, my life, overdose, cut myself, hang myself, starve myself, throw up,"
                "burn myself, bleed out, hurt myself, harm myself, own life, poison myself, stop eating, jump off, slit, wrists,"
                "paracetamol, suffocate myself, self-harm, purge, bleach, every pill, cut deeper",
    "harass": "harass, bully, humiliate, threaten, intimidate, terrorise, torment, dox, shame, stalk, cyberbully,"
              "drive out, blackmail, death threats, mock, lies, get back, revenge, punish, ruin, suffer, private photos",
    "group": "muslims, jews, gay, immigrants, black, trans, roma, disabled, refugees, asians, muslim, jewish, lesbian,"
             "autistic, minority, sikh",
    "spy": "track, spy, record, stalk, monitor, follow, tracker, home address, messages of, phone records, secretly,"
           "location, texts, wiretap, unmask, routine",
    "extremist": "isis, al-qaeda, neo-nazi, terrorist, jihadist, militia, supremacist, accelerationist, paramilitary,"
                 "separatist, extremist, hamas, kkk, neo-fascist, eco-terrorist",
    "terror": "bombing, shooting, assassination, sabotage, massacre, civil war, mass shooting, hostage, truck attack",
    "agent": "sarin, vx, ricin, anthrax, chlorine, mustard gas, nerve agent, botulinum, pathogen, smallpox, plague,"
             "phosgene, toxic gas, cyanide, dirty bomb, bioweapon, chemical weapon, tabun, lethal virus, toxin, nerve gas,"
             "radioactive, polonium, ebola, novichok, poison gas, engineered pathogen",
    "corpse": "body, murder weapon, blood, fingerprints, cctv, footage, dna, stolen, the gun, knife, clothes, getaway,"
              "crime scene, corpse",
    "dispose": "hide, get rid, destroy, dispose, clean up, dump, wipe, burn",
    "steal": "steal, shoplift, rob, pickpocket, burgle, hot-wire, loot, snatch, pick the lock, break into",
    "property": "house, car, shop, van, till, wallet, store, flat, handbag, safe, cash machine, stockroom, holiday home,"
                "supermarket, petrol station",
    "escape": "escape, outrun, bribe, fake passport, new identity, border, arrest warrant, breathalyser, jail, bail,"
              "ankle, lie detector, drug test, police chase, fake my",
}, HARM_COARSE)


def tag_positions(words: Sequence[str], lexicon: Mapping[str, Sequence[str]],
                  pairs: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """(position, class) for every lexicon hit, a two-word phrase tagged at its second word (and winning over it).
    `pairs` are the text's adjacent word pairs ("a b"), if the caller has them already."""
    if not lexicon or not words:
        return []
    get = lexicon.get
    single = list(map(get, words))
    double = [None, *map(get, pairs if pairs is not None else map(" ".join, zip(words, words[1:])))]
    positions = sorted(set(compress(range(len(words)), single)).union(compress(range(len(words)), double)))
    return [(position, tag) for position in positions for tag in (double[position] or single[position])]


def tag_features(tagged: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """(position, feature): each class, and each ordered pair of classes of the same grain (fine with fine, coarse
    "<*...>" with coarse) on different words at most TAG_SPAN words apart."""
    features = list(tagged)
    for index, (position, tag) in enumerate(tagged):
        coarse = tag[1] == "*"
        earlier_index = index - 1
        while earlier_index >= 0 and position - tagged[earlier_index][0] <= TAG_SPAN:
            earlier_position, earlier = tagged[earlier_index]
            if earlier_position < position and (earlier[1] == "*") == coarse:
                features.append((position, f"{earlier}+{tag}"))
            earlier_index -= 1
    return features
