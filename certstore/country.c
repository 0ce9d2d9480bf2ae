/*
 * libcertstore: ISO 3166-1 alpha-2 country codes for the subject's C=
 * attribute (RFC 5280 4.1.2.4, X.520 countryName).  The table holds the
 * 249 officially assigned codes (with their alpha-3 code and short name,
 * used only to suggest a code), from Debian's iso-codes 4.15.0, plus the
 * exceptionally reserved ones.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "csx509.h"
#include "err.h"

static const struct {
	char		 a2[3];
	char		 a3[4];
	const char	*name;
} cs_assigned[] = {
	{ "AD", "AND", "Andorra" },
	{ "AE", "ARE", "United Arab Emirates" },
	{ "AF", "AFG", "Afghanistan" },
	{ "AG", "ATG", "Antigua and Barbuda" },
	{ "AI", "AIA", "Anguilla" },
	{ "AL", "ALB", "Albania" },
	{ "AM", "ARM", "Armenia" },
	{ "AO", "AGO", "Angola" },
	{ "AQ", "ATA", "Antarctica" },
	{ "AR", "ARG", "Argentina" },
	{ "AS", "ASM", "American Samoa" },
	{ "AT", "AUT", "Austria" },
	{ "AU", "AUS", "Australia" },
	{ "AW", "ABW", "Aruba" },
	{ "AX", "ALA", "Åland Islands" },
	{ "AZ", "AZE", "Azerbaijan" },
	{ "BA", "BIH", "Bosnia and Herzegovina" },
	{ "BB", "BRB", "Barbados" },
	{ "BD", "BGD", "Bangladesh" },
	{ "BE", "BEL", "Belgium" },
	{ "BF", "BFA", "Burkina Faso" },
	{ "BG", "BGR", "Bulgaria" },
	{ "BH", "BHR", "Bahrain" },
	{ "BI", "BDI", "Burundi" },
	{ "BJ", "BEN", "Benin" },
	{ "BL", "BLM", "Saint Barthélemy" },
	{ "BM", "BMU", "Bermuda" },
	{ "BN", "BRN", "Brunei Darussalam" },
	{ "BO", "BOL", "Bolivia" },
	{ "BQ", "BES", "Bonaire, Sint Eustatius and Saba" },
	{ "BR", "BRA", "Brazil" },
	{ "BS", "BHS", "Bahamas" },
	{ "BT", "BTN", "Bhutan" },
	{ "BV", "BVT", "Bouvet Island" },
	{ "BW", "BWA", "Botswana" },
	{ "BY", "BLR", "Belarus" },
	{ "BZ", "BLZ", "Belize" },
	{ "CA", "CAN", "Canada" },
	{ "CC", "CCK", "Cocos (Keeling) Islands" },
	{ "CD", "COD", "Congo, The Democratic Republic of the" },
	{ "CF", "CAF", "Central African Republic" },
	{ "CG", "COG", "Congo" },
	{ "CH", "CHE", "Switzerland" },
	{ "CI", "CIV", "Côte d'Ivoire" },
	{ "CK", "COK", "Cook Islands" },
	{ "CL", "CHL", "Chile" },
	{ "CM", "CMR", "Cameroon" },
	{ "CN", "CHN", "China" },
	{ "CO", "COL", "Colombia" },
	{ "CR", "CRI", "Costa Rica" },
	{ "CU", "CUB", "Cuba" },
	{ "CV", "CPV", "Cabo Verde" },
	{ "CW", "CUW", "Curaçao" },
	{ "CX", "CXR", "Christmas Island" },
	{ "CY", "CYP", "Cyprus" },
	{ "CZ", "CZE", "Czechia" },
	{ "DE", "DEU", "Germany" },
	{ "DJ", "DJI", "Djibouti" },
	{ "DK", "DNK", "Denmark" },
	{ "DM", "DMA", "Dominica" },
	{ "DO", "DOM", "Dominican Republic" },
	{ "DZ", "DZA", "Algeria" },
	{ "EC", "ECU", "Ecuador" },
	{ "EE", "EST", "Estonia" },
	{ "EG", "EGY", "Egypt" },
	{ "EH", "ESH", "Western Sahara" },
	{ "ER", "ERI", "Eritrea" },
	{ "ES", "ESP", "Spain" },
	{ "ET", "ETH", "Ethiopia" },
	{ "FI", "FIN", "Finland" },
	{ "FJ", "FJI", "Fiji" },
	{ "FK", "FLK", "Falkland Islands (Malvinas)" },
	{ "FM", "FSM", "Micronesia, Federated States of" },
	{ "FO", "FRO", "Faroe Islands" },
	{ "FR", "FRA", "France" },
	{ "GA", "GAB", "Gabon" },
	{ "GB", "GBR", "United Kingdom" },
	{ "GD", "GRD", "Grenada" },
	{ "GE", "GEO", "Georgia" },
	{ "GF", "GUF", "French Guiana" },
	{ "GG", "GGY", "Guernsey" },
	{ "GH", "GHA", "Ghana" },
	{ "GI", "GIB", "Gibraltar" },
	{ "GL", "GRL", "Greenland" },
	{ "GM", "GMB", "Gambia" },
	{ "GN", "GIN", "Guinea" },
	{ "GP", "GLP", "Guadeloupe" },
	{ "GQ", "GNQ", "Equatorial Guinea" },
	{ "GR", "GRC", "Greece" },
	{ "GS", "SGS", "South Georgia and the South Sandwich Islands" },
	{ "GT", "GTM", "Guatemala" },
	{ "GU", "GUM", "Guam" },
	{ "GW", "GNB", "Guinea-Bissau" },
	{ "GY", "GUY", "Guyana" },
	{ "HK", "HKG", "Hong Kong" },
	{ "HM", "HMD", "Heard Island and McDonald Islands" },
	{ "HN", "HND", "Honduras" },
	{ "HR", "HRV", "Croatia" },
	{ "HT", "HTI", "Haiti" },
	{ "HU", "HUN", "Hungary" },
	{ "ID", "IDN", "Indonesia" },
	{ "IE", "IRL", "Ireland" },
	{ "IL", "ISR", "Israel" },
	{ "IM", "IMN", "Isle of Man" },
	{ "IN", "IND", "India" },
	{ "IO", "IOT", "British Indian Ocean Territory" },
	{ "IQ", "IRQ", "Iraq" },
	{ "IR", "IRN", "Iran" },
	{ "IS", "ISL", "Iceland" },
	{ "IT", "ITA", "Italy" },
	{ "JE", "JEY", "Jersey" },
	{ "JM", "JAM", "Jamaica" },
	{ "JO", "JOR", "Jordan" },
	{ "JP", "JPN", "Japan" },
	{ "KE", "KEN", "Kenya" },
	{ "KG", "KGZ", "Kyrgyzstan" },
	{ "KH", "KHM", "Cambodia" },
	{ "KI", "KIR", "Kiribati" },
	{ "KM", "COM", "Comoros" },
	{ "KN", "KNA", "Saint Kitts and Nevis" },
	{ "KP", "PRK", "North Korea" },
	{ "KR", "KOR", "South Korea" },
	{ "KW", "KWT", "Kuwait" },
	{ "KY", "CYM", "Cayman Islands" },
	{ "KZ", "KAZ", "Kazakhstan" },
	{ "LA", "LAO", "Laos" },
	{ "LB", "LBN", "Lebanon" },
	{ "LC", "LCA", "Saint Lucia" },
	{ "LI", "LIE", "Liechtenstein" },
	{ "LK", "LKA", "Sri Lanka" },
	{ "LR", "LBR", "Liberia" },
	{ "LS", "LSO", "Lesotho" },
	{ "LT", "LTU", "Lithuania" },
	{ "LU", "LUX", "Luxembourg" },
	{ "LV", "LVA", "Latvia" },
	{ "LY", "LBY", "Libya" },
	{ "MA", "MAR", "Morocco" },
	{ "MC", "MCO", "Monaco" },
	{ "MD", "MDA", "Moldova" },
	{ "ME", "MNE", "Montenegro" },
	{ "MF", "MAF", "Saint Martin (French part)" },
	{ "MG", "MDG", "Madagascar" },
	{ "MH", "MHL", "Marshall Islands" },
	{ "MK", "MKD", "North Macedonia" },
	{ "ML", "MLI", "Mali" },
	{ "MM", "MMR", "Myanmar" },
	{ "MN", "MNG", "Mongolia" },
	{ "MO", "MAC", "Macao" },
	{ "MP", "MNP", "Northern Mariana Islands" },
	{ "MQ", "MTQ", "Martinique" },
	{ "MR", "MRT", "Mauritania" },
	{ "MS", "MSR", "Montserrat" },
	{ "MT", "MLT", "Malta" },
	{ "MU", "MUS", "Mauritius" },
	{ "MV", "MDV", "Maldives" },
	{ "MW", "MWI", "Malawi" },
	{ "MX", "MEX", "Mexico" },
	{ "MY", "MYS", "Malaysia" },
	{ "MZ", "MOZ", "Mozambique" },
	{ "NA", "NAM", "Namibia" },
	{ "NC", "NCL", "New Caledonia" },
	{ "NE", "NER", "Niger" },
	{ "NF", "NFK", "Norfolk Island" },
	{ "NG", "NGA", "Nigeria" },
	{ "NI", "NIC", "Nicaragua" },
	{ "NL", "NLD", "Netherlands" },
	{ "NO", "NOR", "Norway" },
	{ "NP", "NPL", "Nepal" },
	{ "NR", "NRU", "Nauru" },
	{ "NU", "NIU", "Niue" },
	{ "NZ", "NZL", "New Zealand" },
	{ "OM", "OMN", "Oman" },
	{ "PA", "PAN", "Panama" },
	{ "PE", "PER", "Peru" },
	{ "PF", "PYF", "French Polynesia" },
	{ "PG", "PNG", "Papua New Guinea" },
	{ "PH", "PHL", "Philippines" },
	{ "PK", "PAK", "Pakistan" },
	{ "PL", "POL", "Poland" },
	{ "PM", "SPM", "Saint Pierre and Miquelon" },
	{ "PN", "PCN", "Pitcairn" },
	{ "PR", "PRI", "Puerto Rico" },
	{ "PS", "PSE", "Palestine, State of" },
	{ "PT", "PRT", "Portugal" },
	{ "PW", "PLW", "Palau" },
	{ "PY", "PRY", "Paraguay" },
	{ "QA", "QAT", "Qatar" },
	{ "RE", "REU", "Réunion" },
	{ "RO", "ROU", "Romania" },
	{ "RS", "SRB", "Serbia" },
	{ "RU", "RUS", "Russian Federation" },
	{ "RW", "RWA", "Rwanda" },
	{ "SA", "SAU", "Saudi Arabia" },
	{ "SB", "SLB", "Solomon Islands" },
	{ "SC", "SYC", "Seychelles" },
	{ "SD", "SDN", "Sudan" },
	{ "SE", "SWE", "Sweden" },
	{ "SG", "SGP", "Singapore" },
	{ "SH", "SHN", "Saint Helena, Ascension and Tristan da Cunha" },
	{ "SI", "SVN", "Slovenia" },
	{ "SJ", "SJM", "Svalbard and Jan Mayen" },
	{ "SK", "SVK", "Slovakia" },
	{ "SL", "SLE", "Sierra Leone" },
	{ "SM", "SMR", "San Marino" },
	{ "SN", "SEN", "Senegal" },
	{ "SO", "SOM", "Somalia" },
	{ "SR", "SUR", "Suriname" },
	{ "SS", "SSD", "South Sudan" },
	{ "ST", "STP", "Sao Tome and Principe" },
	{ "SV", "SLV", "El Salvador" },
	{ "SX", "SXM", "Sint Maarten (Dutch part)" },
	{ "SY", "SYR", "Syria" },
	{ "SZ", "SWZ", "Eswatini" },
	{ "TC", "TCA", "Turks and Caicos Islands" },
	{ "TD", "TCD", "Chad" },
	{ "TF", "ATF", "French Southern Territories" },
	{ "TG", "TGO", "Togo" },
	{ "TH", "THA", "Thailand" },
	{ "TJ", "TJK", "Tajikistan" },
	{ "TK", "TKL", "Tokelau" },
	{ "TL", "TLS", "Timor-Leste" },
	{ "TM", "TKM", "Turkmenistan" },
	{ "TN", "TUN", "Tunisia" },
	{ "TO", "TON", "Tonga" },
	{ "TR", "TUR", "Türkiye" },
	{ "TT", "TTO", "Trinidad and Tobago" },
	{ "TV", "TUV", "Tuvalu" },
	{ "TW", "TWN", "Taiwan" },
	{ "TZ", "TZA", "Tanzania" },
	{ "UA", "UKR", "Ukraine" },
	{ "UG", "UGA", "Uganda" },
	{ "UM", "UMI", "United States Minor Outlying Islands" },
	{ "US", "USA", "United States" },
	{ "UY", "URY", "Uruguay" },
	{ "UZ", "UZB", "Uzbekistan" },
	{ "VA", "VAT", "Holy See (Vatican City State)" },
	{ "VC", "VCT", "Saint Vincent and the Grenadines" },
	{ "VE", "VEN", "Venezuela" },
	{ "VG", "VGB", "Virgin Islands, British" },
	{ "VI", "VIR", "Virgin Islands, U.S." },
	{ "VN", "VNM", "Vietnam" },
	{ "VU", "VUT", "Vanuatu" },
	{ "WF", "WLF", "Wallis and Futuna" },
	{ "WS", "WSM", "Samoa" },
	{ "YE", "YEM", "Yemen" },
	{ "YT", "MYT", "Mayotte" },
	{ "ZA", "ZAF", "South Africa" },
	{ "ZM", "ZMB", "Zambia" },
	{ "ZW", "ZWE", "Zimbabwe" },
};

/*
 * Exceptionally reserved by the ISO 3166 Maintenance Agency; UK and EU
 * are the ones certificates most often carry.
 */
static const char *const cs_reserved[] = {
	"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU", "TA",
	"UK", "UN",
};

/* Codes people reach for that are not country codes at all. */
static const struct {
	const char	*wrong, *right;
} cs_mistakes[] = {
	{ "EN", "GB" },		/* the language */
	{ "EL", "GR" },		/* the EU's code for Greece */
	{ "JA", "JP" },		/* the language */
	{ "SP", "ES" },
	{ "SW", "SE" },
	{ "DA", "DK" },		/* the language */
	{ "KO", "KR" },		/* the language */
	{ "GER", "DE" },
	{ "ENG", "GB" },
};

#define NASSIGNED	(sizeof(cs_assigned) / sizeof(cs_assigned[0]))
#define NRESERVED	(sizeof(cs_reserved) / sizeof(cs_reserved[0]))

size_t
cs_country_count(void)
{
	return NASSIGNED + NRESERVED;
}

static int
cs_country_known(const char *up)
{
	size_t	 i;

	for (i = 0; i < NASSIGNED; i++)
		if (strcmp(up, cs_assigned[i].a2) == 0)
			return 1;
	for (i = 0; i < NRESERVED; i++)
		if (strcmp(up, cs_reserved[i]) == 0)
			return 1;
	return 0;
}

static const char *
cs_country_name(const char *a2)
{
	size_t	 i;

	for (i = 0; i < NASSIGNED; i++)
		if (strcmp(a2, cs_assigned[i].a2) == 0)
			return cs_assigned[i].name;
	return "exceptionally reserved";
}

/*
 * The closest valid code, or NULL:
 * 1. a known confusion (EN for GB), an alpha-3 code or a country name;
 * 2. the two letters swapped;
 * 3. the only valid code one letter away that keeps the first letter.
 */
static const char *
cs_country_suggest(const char *up, const char *in)
{
	static char	 swap[3];
	const char	*pick = NULL;
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < sizeof(cs_mistakes) / sizeof(cs_mistakes[0]); i++)
		if (strcmp(up, cs_mistakes[i].wrong) == 0)
			return cs_mistakes[i].right;
	for (i = 0; i < NASSIGNED; i++)
		if (strcmp(up, cs_assigned[i].a3) == 0 ||
		    strcasecmp(in, cs_assigned[i].name) == 0)
			return cs_assigned[i].a2;
	if (strlen(up) != 2)
		return NULL;
	swap[0] = up[1];
	swap[1] = up[0];
	swap[2] = '\0';
	if (cs_country_known(swap))
		return swap;
	for (i = 0; i < NASSIGNED; i++)
		if (cs_assigned[i].a2[0] == up[0]) {
			n++;
			pick = cs_assigned[i].a2;
		}
	return n == 1 ? pick : NULL;
}

int
cs_country_check(const char *in, char out[3], char *err, size_t errlen)
{
	char		 up[64], same[160];
	const char	*s;
	size_t		 i, n;

	out[0] = '\0';
	n = strlen(in);
	for (i = 0; i < n && i < sizeof(up) - 1; i++) {
		if (!isprint((unsigned char)in[i]))
			return cs_err(err, errlen, FTPS_EPARSE, "country code "
			    "holds a control or non-ASCII character: use the "
			    "two-letter ISO 3166-1 code");
		up[i] = (char)toupper((unsigned char)in[i]);
	}
	up[i] = '\0';
	if (n == 2 && cs_country_known(up)) {
		memcpy(out, up, 3);
		return 0;
	}
	if ((s = cs_country_suggest(up, in)) != NULL)
		return cs_err(err, errlen, FTPS_EPARSE, "country code \"%.60s\" "
		    "is not an ISO 3166-1 alpha-2 code: did you mean %s (%s)?",
		    in, s, cs_country_name(s));
	/* No single guess: list the codes sharing the first letter. */
	same[0] = '\0';
	for (i = 0; i < NASSIGNED && up[0] != '\0'; i++)
		if (cs_assigned[i].a2[0] == up[0]) {
			n = strlen(same);
			if (n + 4 > sizeof(same))
				break;
			same[n] = ' ';
			memcpy(same + n + 1, cs_assigned[i].a2, 3);
		}
	if (same[0] != '\0')
		return cs_err(err, errlen, FTPS_EPARSE, "country code "
		    "\"%.60s\" is not an ISO 3166-1 alpha-2 code; those "
		    "starting with %c are:%s", in, up[0], same);
	return cs_err(err, errlen, FTPS_EPARSE, "country code \"%.60s\" is "
	    "not an ISO 3166-1 alpha-2 code (two letters, e.g. DE, FR, GB, "
	    "US)", in);
}
