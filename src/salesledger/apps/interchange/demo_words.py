"""Word lists for the demo company: realistic customer names, places and products.

Plain data only, read by ``demo_plan``. Surnames, city names and postal-code prefixes are
common public facts; bank codes are real bank identifiers so that the generated IBANs
carry a recognisable BIC; every phone number is fictitious (the UK and US ranges used are
the ones reserved for drama: Ofcom 020 7946 0xxx, NANP 555-01xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    language: str
    # (currency, weight) choices for a customer of this country
    currencies: tuple[tuple[str, int], ...]
    surnames: tuple[str, ...]
    first_names: tuple[str, ...]
    trades: tuple[str, ...]
    places: tuple[str, ...]
    patterns: tuple[str, ...]  # uses {surname} {surname2} {trade} {place}
    legal_forms: tuple[str, ...]
    # (city, postal-code prefix, region)
    cities: tuple[tuple[str, str, str], ...]
    streets: tuple[str, ...]
    street_format: str  # uses {n} {street}
    tld: str
    phone_format: str  # '#' is a random digit
    # bank codes (with branch where the country's BBAN has one) for IBAN.generate
    banks: tuple[str, ...]
    account_digits: int


FR = Country(
    code="FR", weight=55, language="fr", currencies=(("EUR", 1),),
    surnames=("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
              "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
              "Dupont", "Lambert", "Bonnet", "François", "Legrand", "Garnier", "Faure",
              "Rousseau", "Blanc", "Guérin", "Henry", "Roussel", "Perrin", "Morin", "Mathieu",
              "Clément", "Gauthier", "Dumont", "Fontaine", "Chevalier", "Robin", "Masson",
              "Marchand", "Duval", "Denis", "Lemaire"),
    first_names=("Jean", "Marie", "Pierre", "Sophie", "Nicolas", "Isabelle", "Julien",
                 "Camille", "Thomas", "Nathalie", "Antoine", "Claire", "Laurent", "Céline",
                 "Mathieu", "Émilie", "Olivier", "Aurélie", "Philippe", "Sandrine"),
    trades=("Boulangerie", "Transports", "Imprimerie", "Garage", "Menuiserie", "Cabinet",
            "Atelier", "Hôtel", "Restaurant", "Éditions", "Laboratoires", "Bâtiment",
            "Traiteur", "Électricité", "Plomberie", "Librairie", "Conseil", "Distribution",
            "Charpente", "Pharmacie"),
    places=("du Rhône", "de Provence", "de l'Atlantique", "des Alpes", "du Val de Loire",
            "de Bretagne", "de Normandie", "d'Alsace", "du Sud-Ouest", "de la Côte d'Opale",
            "du Lubéron", "des Vosges"),
    patterns=("{trade} {surname}", "{trade} {place}", "{surname} et Fils",
              "{surname} {surname2} Associés", "Groupe {surname}", "{trade} {surname} & Cie"),
    legal_forms=("SARL", "SAS", "SA", "EURL", "SASU"),
    cities=(("Paris", "750", "Île-de-France"), ("Lyon", "6900", "Auvergne-Rhône-Alpes"),
            ("Marseille", "130", "Provence-Alpes-Côte d'Azur"), ("Toulouse", "3100", "Occitanie"),
            ("Nice", "0600", "Provence-Alpes-Côte d'Azur"), ("Nantes", "4400", "Pays de la Loire"),
            ("Strasbourg", "6700", "Grand Est"), ("Montpellier", "3400", "Occitanie"),
            ("Bordeaux", "3300", "Nouvelle-Aquitaine"), ("Lille", "5900", "Hauts-de-France"),
            ("Rennes", "3500", "Bretagne"), ("Reims", "5110", "Grand Est"),
            ("Grenoble", "3800", "Auvergne-Rhône-Alpes"), ("Dijon", "2100",
                                                          "Bourgogne-Franche-Comté"),
            ("Angers", "4900", "Pays de la Loire"), ("Tours", "3700", "Centre-Val de Loire"),
            ("Rouen", "7600", "Normandie"), ("Metz", "5700", "Grand Est"),
            ("Clermont-Ferrand", "6300", "Auvergne-Rhône-Alpes"), ("Caen", "1400", "Normandie")),
    streets=("rue de la République", "rue Victor Hugo", "avenue Jean Jaurès",
             "boulevard du Général de Gaulle", "rue Pasteur", "allée des Lilas",
             "rue de la Gare", "avenue Gambetta", "boulevard Voltaire", "chemin du Moulin",
             "place de l'Église", "avenue Foch", "rue des Écoles", "quai des Chartrons",
             "zone industrielle des Prés"),
    street_format="{n} {street}", tld="fr", phone_format="+33 # ## ## ## ##",
    banks=("3000400821", "3000300123", "1027800050", "2004101005", "3000601234",
           "1820600210", "1130600030", "1751500090"),
    account_digits=11,
)

DE = Country(
    code="DE", weight=12, language="de", currencies=(("EUR", 1),),
    surnames=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
              "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein",
              "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
              "Hofmann", "Hartmann", "Lange"),
    first_names=("Lukas", "Anna", "Jonas", "Lea", "Felix", "Laura", "Maximilian", "Julia",
                 "Paul", "Katharina", "Stefan", "Sabine", "Andreas", "Petra", "Michael",
                 "Claudia"),
    trades=("Maschinenbau", "Logistik", "Elektrotechnik", "Bau", "Metallbau", "Druckerei",
            "Holzbau", "Handel", "Medizintechnik", "Software", "Feinmechanik", "Spedition",
            "Gastronomie", "Kunststofftechnik"),
    places=("Rhein", "Main", "Nord", "Süd", "Bayern", "Ruhr", "Elbe", "Schwaben", "Hanse",
            "Allgäu"),
    patterns=("{surname} {trade}", "{place}-{trade}", "{surname} & {surname2}",
              "{surname} & Söhne", "{trade} {surname}"),
    legal_forms=("GmbH", "GmbH & Co. KG", "AG", "KG", "e.K."),
    cities=(("Berlin", "10", "Berlin"), ("Hamburg", "20", "Hamburg"), ("München", "80", "Bayern"),
            ("Köln", "50", "Nordrhein-Westfalen"), ("Frankfurt am Main", "60", "Hessen"),
            ("Stuttgart", "70", "Baden-Württemberg"), ("Düsseldorf", "40",
                                                      "Nordrhein-Westfalen"),
            ("Dortmund", "44", "Nordrhein-Westfalen"), ("Leipzig", "04", "Sachsen"),
            ("Bremen", "28", "Bremen"), ("Dresden", "01", "Sachsen"),
            ("Hannover", "30", "Niedersachsen"), ("Nürnberg", "90", "Bayern")),
    streets=("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Industriestraße",
             "Lindenweg", "Bergstraße", "Friedrichstraße", "Goethestraße", "Am Markt"),
    street_format="{street} {n}", tld="de", phone_format="+49 ## #######",
    banks=("10070000", "50010517", "20040000", "37040044", "70020270", "60050101"),
    account_digits=10,
)

ES = Country(
    code="ES", weight=10, language="es", currencies=(("EUR", 1),),
    surnames=("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
              "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
              "Álvarez", "Romero", "Navarro", "Torres", "Domínguez"),
    first_names=("Antonio", "María", "Manuel", "Carmen", "José", "Ana", "Francisco", "Laura",
                 "David", "Lucía", "Javier", "Elena", "Carlos", "Marta"),
    trades=("Distribuciones", "Construcciones", "Transportes", "Suministros", "Comercial",
            "Talleres", "Industrias", "Alimentación", "Servicios Integrales", "Instalaciones"),
    places=("Ibérica", "del Norte", "Levante", "Mediterráneo", "Andaluza", "Castellana",
            "Galaica", "Cantábrica"),
    patterns=("{trade} {surname}", "{trade} {place}", "{surname} e Hijos", "Grupo {surname}"),
    legal_forms=("S.L.", "S.A.", "S.L.U."),
    cities=(("Madrid", "28", "Madrid"), ("Barcelona", "08", "Cataluña"),
            ("Valencia", "46", "Comunidad Valenciana"), ("Sevilla", "41", "Andalucía"),
            ("Zaragoza", "50", "Aragón"), ("Málaga", "29", "Andalucía"),
            ("Bilbao", "48", "País Vasco"), ("Alicante", "03", "Comunidad Valenciana"),
            ("Murcia", "30", "Región de Murcia"), ("Valladolid", "47", "Castilla y León")),
    streets=("Calle Mayor", "Avenida de la Constitución", "Calle Real", "Paseo de Gracia",
             "Calle de Alcalá", "Gran Vía", "Calle del Carmen", "Avenida de Andalucía"),
    street_format="{street}, {n}", tld="es", phone_format="+34 9## ### ###",
    banks=("00491500", "01822370", "21000418", "00810200", "20852066"),
    account_digits=10,
)

GB = Country(
    code="GB", weight=12, language="en", currencies=(("GBP", 3), ("EUR", 1)),
    surnames=("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
              "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
              "Hall", "Wood", "Jackson", "Clarke"),
    first_names=("Oliver", "Amelia", "George", "Olivia", "Harry", "Emily", "Jack", "Isla",
                 "James", "Sophie", "William", "Charlotte"),
    trades=("Engineering", "Logistics", "Consulting", "Supplies", "Print", "Systems",
            "Builders", "Catering", "Foods", "Textiles"),
    places=("Northern", "Thames", "Pennine", "Midland", "Highland", "Severn", "Cotswold",
            "Mersey", "Wessex"),
    patterns=("{surname} & {surname2}", "{place} {trade}", "{surname} {trade}",
              "{surname} Brothers"),
    legal_forms=("Ltd", "PLC", "LLP"),
    cities=(("London", "EC1A", "Greater London"), ("London", "SE1", "Greater London"),
            ("Manchester", "M1", "Greater Manchester"), ("Birmingham", "B2", "West Midlands"),
            ("Leeds", "LS1", "West Yorkshire"), ("Glasgow", "G1", "Scotland"),
            ("Bristol", "BS1", "Bristol"), ("Liverpool", "L1", "Merseyside"),
            ("Edinburgh", "EH1", "Scotland"), ("Cardiff", "CF10", "Wales")),
    streets=("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane",
             "King Street", "Queen's Road", "Park Avenue"),
    street_format="{n} {street}", tld="co.uk", phone_format="+44 20 7946 0###",
    banks=("BARC200000", "LOYD309634", "HBUK400515", "NWBK601613"),
    account_digits=8,
)

US = Country(
    code="US", weight=11, language="en", currencies=(("USD", 5), ("EUR", 1)),
    surnames=("Miller", "Davis", "Anderson", "Moore", "Harris", "Clark", "Lewis", "Young",
              "Allen", "King", "Scott", "Baker", "Adams", "Nelson", "Carter", "Mitchell",
              "Turner", "Parker", "Collins", "Reed"),
    first_names=("Michael", "Jennifer", "David", "Jessica", "Chris", "Ashley", "Matthew",
                 "Sarah", "Daniel", "Emily", "Ryan", "Megan"),
    trades=("Industries", "Technologies", "Logistics", "Manufacturing", "Solutions",
            "Distribution", "Foods", "Analytics", "Supply"),
    places=("Pacific", "Atlantic", "Lakeside", "Summit", "Keystone", "Golden State",
            "Lone Star", "Great Lakes", "Bay Area", "Evergreen"),
    patterns=("{place} {trade}", "{surname} {trade}", "{surname} & {surname2}"),
    legal_forms=("Inc.", "LLC", "Corp."),
    cities=(("New York", "100", "NY"), ("Chicago", "606", "IL"), ("Houston", "770", "TX"),
            ("San Francisco", "941", "CA"), ("Boston", "021", "MA"), ("Seattle", "981", "WA"),
            ("Atlanta", "303", "GA"), ("Denver", "802", "CO"), ("Austin", "787", "TX"),
            ("Miami", "331", "FL")),
    streets=("Main Street", "Oak Avenue", "Maple Drive", "Market Street", "Broadway",
             "Washington Boulevard", "Lake Shore Drive", "Commerce Way"),
    street_format="{n} {street}", tld="com", phone_format="+1 ### 555 01##",
    banks=(), account_digits=0,
)

COUNTRIES = (FR, DE, ES, GB, US)


@dataclass(frozen=True)
class Product:
    description: str
    unit_price: Decimal
    tax_rate: Decimal  # French VAT rate; foreign customers get 0 % with a category
    half_units: bool = False  # quantities in halves (days, hours)


PRODUCTS = (
    Product("Office supplies, assorted (box)", Decimal("45.00"), Decimal(20)),
    Product("Ergonomic office chair", Decimal("289.00"), Decimal(20)),
    Product("Laptop docking station", Decimal("179.00"), Decimal(20)),
    Product("Consulting day, senior", Decimal("950.00"), Decimal(20), True),
    Product("Consulting day, junior", Decimal("620.00"), Decimal(20), True),
    Product("Software licence, annual seat", Decimal("1200.00"), Decimal(20)),
    Product("Maintenance contract, monthly", Decimal("340.00"), Decimal(20)),
    Product("Printer toner cartridge", Decimal("89.90"), Decimal(20)),
    Product("Delivery and handling", Decimal("35.00"), Decimal(20)),
    Product("Installation service (hour)", Decimal("78.00"), Decimal(20), True),
    Product("Training session, half day", Decimal("480.00"), Decimal(20)),
    Product("Industrial cleaning products (case)", Decimal("64.50"), Decimal(20)),
    Product("Catering service, per guest", Decimal("32.50"), Decimal(10)),
    Product("Renovation works, labour (hour)", Decimal("52.00"), Decimal(10), True),
    Product("Hotel accommodation, night", Decimal("118.00"), Decimal(10)),
    Product("Coach hire with driver, day", Decimal("780.00"), Decimal(10)),
    Product("Organic flour, 25 kg sack", Decimal("31.20"), Decimal("5.5")),
    Product("Mineral water, pallet", Decimal("210.00"), Decimal("5.5")),
    Product("Technical books", Decimal("42.00"), Decimal("5.5")),
    Product("Fresh produce, crate", Decimal("48.00"), Decimal("5.5")),
    Product("Thermal insulation works (m²)", Decimal("95.00"), Decimal("5.5")),
)

CONTACT_ROLES = (("billing",), ("payables",), ("billing", "payables"), ("sales",))

DISPUTE_REASONS = (
    "Goods damaged in transit",
    "Quantity delivered short of the order",
    "Price differs from the quotation",
    "Service not performed as agreed",
    "Duplicate billing",
    "Wrong item delivered",
)
