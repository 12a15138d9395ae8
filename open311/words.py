"""What Open311 clients show people: each service's description and keywords, the groups, the
attributes' questions, and the sentences of errors. English msgids, read in the request's
language (Accept-Language, as for every page)."""

from __future__ import annotations

from collections.abc import Mapping

from lapor.complaints.open311 import Attribute, AttributeProblem, WindowProblem
from lapor.complaints.reports import Identity
from lapor.web.i18n import N_

DESCRIPTION: Mapping[str, str] = {
    "pelayanan": N_(
        "How a public service was delivered: slow or rude service, unclear procedures, "
        "a counter that was closed."
    ),
    "kesehatan": N_(
        "Hospitals, community health centres (puskesmas), BPJS health cover, medicines."
    ),
    "pendidikan": N_("Schools, admissions, school fees, teachers, scholarships."),
    "kependudukan": N_("Identity cards (KTP), family cards, birth and death certificates."),
    "perizinan": N_("Business and building permits and other licences."),
    "infrastruktur": N_("Roads, bridges, drainage, street lighting, public buildings."),
    "transportasi": N_("Public transport, terminals, traffic and parking."),
    "lingkungan": N_("Waste collection, pollution, parks, clean water and sanitation."),
    "ketertiban": N_("Public order and safety, street vendors, disturbances."),
    "sosial": N_("Social assistance, aid for the poor, the elderly and people with disabilities."),
    "pajak": N_("Local taxes, levies and retributions."),
    "ketenagakerjaan": N_("Work and employment, wages, job training."),
    "pungli": N_("Illegal levies, bribes, gratuities and other abuse of office."),
    "lainnya": N_("Anything that fits none of the other services."),
}
KEYWORDS: Mapping[str, str] = {
    "pelayanan": N_("service, counter, queue, staff, procedure, maladministration"),
    "kesehatan": N_("health, hospital, puskesmas, BPJS, doctor, medicine"),
    "pendidikan": N_("education, school, teacher, admission, scholarship, fees"),
    "kependudukan": N_("KTP, e-KTP, family card, birth certificate, civil registry"),
    "perizinan": N_("permit, licence, building permit, business licence"),
    "infrastruktur": N_("road, pothole, bridge, drainage, street light"),
    "transportasi": N_("bus, angkot, terminal, traffic, parking"),
    "lingkungan": N_("rubbish, waste, pollution, water, sanitation, park"),
    "ketertiban": N_("order, safety, street vendor, noise, disturbance"),
    "sosial": N_("social aid, assistance, poverty, elderly, disability"),
    "pajak": N_("tax, levy, retribution, land tax, vehicle tax"),
    "ketenagakerjaan": N_("job, work, wages, employment, training"),
    "pungli": N_("illegal levy, bribe, extortion, corruption, gratuity"),
    "lainnya": N_("other"),
}
GROUP: Mapping[str, str] = {
    "administrasi": N_("Administration"),
    "layanan_dasar": N_("Basic services"),
    "prasarana": N_("Infrastructure and environment"),
    "ketertiban": N_("Order and integrity"),
    "lainnya": N_("Other"),
}
IDENTITY: Mapping[Identity, str] = {
    Identity.NAMED: N_("My name is shown to the staff handling it"),
    Identity.CONFIDENTIAL: N_(
        "Confidential: only the coordinator sees my name, the report is never public"
    ),
    Identity.ANONYMOUS: N_("Anonymous: my name and contact are not stored at all"),
}
ATTRIBUTE: Mapping[Attribute, tuple[str, str]] = {
    Attribute.KIND: (
        N_("What kind of report is this?"),
        N_("One of the keys below; a complaint when none is sent."),
    ),
    Attribute.IDENTITY: (
        N_("Who is reporting?"),
        N_(
            "One of the keys below. When none is sent: named if a name, phone or e-mail "
            "address is sent, anonymous otherwise. Named and confidential reports need a name "
            "and a phone number or e-mail address."
        ),
    ),
    Attribute.UNIT: (
        N_("Which unit is the report for?"),
        N_("One of the keys below; the organisation's coordinators when none is sent."),
    ),
}
ATTRIBUTE_ERROR: Mapping[AttributeProblem, str] = {
    AttributeProblem.UNKNOWN: N_(
        "attribute[%(code)s]: this service has no such attribute (see its service definition)."
    ),
    AttributeProblem.VALUE: N_(
        "attribute[%(code)s]: not one of the values in the service definition."
    ),
    AttributeProblem.REPEATED: N_("attribute[%(code)s]: give one value only."),
}
WINDOW_ERROR: Mapping[WindowProblem, str] = {
    WindowProblem.TOO_LONG: N_("start_date and end_date may be at most 90 days apart."),
    WindowProblem.REVERSED: N_("end_date is before start_date."),
}
# The Open311 parameter each field of the report form is read from.
PARAMETER = {
    "kind": "attribute[kind]",
    "text": "description",
    "location": "address_string",
    "identity": "attribute[identity]",
    "name": "first_name, last_name",
    "phone": "phone",
    "email": "email",
    "contact": "phone, email",
}
