/**
 * Clinical code tables for the demo population: real codes from the real code systems
 * (SNOMED CT, LOINC, RxNorm, CVX, UCUM), a small Synthea-like subset.
 */
export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const UCUM = 'http://unitsofmeasure.org';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export interface Code {
  code: string;
  display: string;
}

export interface ConditionCode extends Code {
  /** Chronic conditions stay active; acute ones resolve a few weeks after onset. */
  chronic: boolean;
  /** Indexes into MEDICATIONS used to treat it. */
  treatments: readonly number[];
  /** Lab LOINC codes checked when the condition is followed up. */
  labs: readonly string[];
  /** Lower-case phrase used in generated clinical notes. */
  phrase: string;
}

export const CONDITIONS: readonly ConditionCode[] = [
  { code: '44054006', display: 'Diabetes mellitus type 2 (disorder)', chronic: true, treatments: [0], labs: ['4548-4', '2339-0'], phrase: 'type 2 diabetes mellitus' },
  { code: '38341003', display: 'Hypertensive disorder, systemic arterial (disorder)', chronic: true, treatments: [1, 2, 10], labs: ['38483-4'], phrase: 'essential hypertension' },
  { code: '55822004', display: 'Hyperlipidemia (disorder)', chronic: true, treatments: [3], labs: ['2093-3', '2571-8', '18262-6', '2085-9'], phrase: 'hyperlipidemia' },
  { code: '195967001', display: 'Asthma (disorder)', chronic: true, treatments: [8, 9], labs: [], phrase: 'asthma' },
  { code: '49436004', display: 'Atrial fibrillation (disorder)', chronic: true, treatments: [11], labs: ['718-7'], phrase: 'atrial fibrillation' },
  { code: '239873007', display: 'Osteoarthritis of knee (disorder)', chronic: true, treatments: [13, 4], labs: [], phrase: 'osteoarthritis of the knee' },
  { code: '271737000', display: 'Anemia (disorder)', chronic: true, treatments: [], labs: ['718-7', '6690-2'], phrase: 'anemia' },
  { code: '15777000', display: 'Prediabetes (finding)', chronic: true, treatments: [], labs: ['4548-4'], phrase: 'prediabetes' },
  { code: '195662009', display: 'Acute viral pharyngitis (disorder)', chronic: false, treatments: [4], labs: [], phrase: 'acute viral pharyngitis' },
  { code: '43878008', display: 'Streptococcal sore throat (disorder)', chronic: false, treatments: [7], labs: [], phrase: 'streptococcal pharyngitis' },
  { code: '10509002', display: 'Acute bronchitis (disorder)', chronic: false, treatments: [4], labs: [], phrase: 'acute bronchitis' },
  { code: '444814009', display: 'Viral sinusitis (disorder)', chronic: false, treatments: [6], labs: [], phrase: 'viral sinusitis' },
  { code: '65363002', display: 'Otitis media (disorder)', chronic: false, treatments: [6], labs: [], phrase: 'otitis media' },
];

export interface MedicationCode extends Code {
  dosage: string;
}

export const MEDICATIONS: readonly MedicationCode[] = [
  { code: '860975', display: '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet', dosage: 'Take 1 tablet by mouth once daily with the evening meal' },
  { code: '314076', display: 'lisinopril 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
  { code: '197361', display: 'amlodipine 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
  { code: '316672', display: 'Simvastatin 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth at bedtime' },
  { code: '313782', display: 'Acetaminophen 325 MG Oral Tablet', dosage: 'Take 2 tablets by mouth every 6 hours as needed for pain' },
  { code: '310965', display: 'Ibuprofen 200 MG Oral Tablet', dosage: 'Take 2 tablets by mouth every 8 hours as needed' },
  { code: '308182', display: 'Amoxicillin 250 MG Oral Capsule', dosage: 'Take 1 capsule by mouth three times daily for 10 days' },
  { code: '834061', display: 'Penicillin V Potassium 250 MG Oral Tablet', dosage: 'Take 1 tablet by mouth four times daily for 10 days' },
  { code: '895994', display: '120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', dosage: 'Inhale 2 puffs twice daily' },
  { code: '745679', display: '200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler', dosage: 'Inhale 2 puffs every 4 hours as needed for wheezing' },
  { code: '310798', display: 'Hydrochlorothiazide 25 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every morning' },
  { code: '855332', display: 'Warfarin Sodium 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth daily as directed' },
  { code: '1049221', display: 'Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every 6 hours as needed for severe pain' },
  { code: '849574', display: 'Naproxen sodium 220 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every 12 hours as needed' },
];

export interface QuantityCode extends Code {
  unit: string;
  /** UCUM code of the unit. */
  ucum: string;
  low: number;
  high: number;
  decimals: number;
}

export const VITALS: readonly QuantityCode[] = [
  { code: '8302-2', display: 'Body Height', unit: 'cm', ucum: 'cm', low: 150, high: 195, decimals: 1 },
  { code: '29463-7', display: 'Body Weight', unit: 'kg', ucum: 'kg', low: 50, high: 120, decimals: 1 },
  { code: '39156-5', display: 'Body Mass Index', unit: 'kg/m2', ucum: 'kg/m2', low: 18, high: 38, decimals: 1 },
  { code: '8867-4', display: 'Heart rate', unit: '/min', ucum: '/min', low: 55, high: 105, decimals: 0 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', ucum: '/min', low: 12, high: 20, decimals: 0 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel', low: 36.2, high: 38.6, decimals: 1 },
  { code: '2708-6', display: 'Oxygen saturation in Arterial blood', unit: '%', ucum: '%', low: 92, high: 100, decimals: 0 },
];

export const BLOOD_PRESSURE = {
  panel: { code: '85354-9', display: 'Blood pressure panel with all children optional' },
  systolic: { code: '8480-6', display: 'Systolic blood pressure', low: 100, high: 165 },
  diastolic: { code: '8462-4', display: 'Diastolic blood pressure', low: 60, high: 100 },
};

export const LABS: readonly QuantityCode[] = [
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', ucum: '%', low: 4.8, high: 9.5, decimals: 1 },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', ucum: 'mg/dL', low: 70, high: 210, decimals: 0 },
  { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', ucum: 'mg/dL', low: 150, high: 280, decimals: 0 },
  { code: '2571-8', display: 'Triglycerides', unit: 'mg/dL', ucum: 'mg/dL', low: 80, high: 300, decimals: 0 },
  { code: '18262-6', display: 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', unit: 'mg/dL', ucum: 'mg/dL', low: 70, high: 190, decimals: 0 },
  { code: '2085-9', display: 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', unit: 'mg/dL', ucum: 'mg/dL', low: 30, high: 80, decimals: 0 },
  { code: '38483-4', display: 'Creatinine [Mass/volume] in Blood', unit: 'mg/dL', ucum: 'mg/dL', low: 0.6, high: 1.6, decimals: 2 },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', ucum: 'g/dL', low: 9.5, high: 17.5, decimals: 1 },
  { code: '6690-2', display: 'Leukocytes [#/volume] in Blood by Automated count', unit: '10*3/uL', ucum: '10*3/uL', low: 3.5, high: 11.5, decimals: 1 },
];

/** Observations whose value is a code (valueCodeableConcept). */
export const CODED_OBSERVATIONS = {
  smoking: {
    code: { code: '72166-2', display: 'Tobacco smoking status' },
    category: 'social-history',
    values: [
      { code: '266919005', display: 'Never smoked tobacco (finding)' },
      { code: '8517006', display: 'Ex-smoker (finding)' },
      { code: '449868002', display: 'Smokes tobacco daily (finding)' },
    ],
  },
  urineGlucose: {
    code: { code: '25428-4', display: 'Glucose [Presence] in Urine by Test strip' },
    category: 'laboratory',
    values: [
      { code: '260385009', display: 'Negative (qualifier value)' },
      { code: '10828004', display: 'Positive (qualifier value)' },
    ],
  },
} as const;

export interface EncounterKind extends Code {
  classCode: 'AMB' | 'EMER' | 'IMP' | 'VR';
  classDisplay: string;
  /** Length of the encounter in minutes. */
  minutes: [number, number];
  weight: number;
}

export const ENCOUNTER_KINDS: readonly EncounterKind[] = [
  { code: '185349003', display: 'Encounter for check up (procedure)', classCode: 'AMB', classDisplay: 'ambulatory', minutes: [15, 45], weight: 5 },
  { code: '185345009', display: 'Encounter for symptom (procedure)', classCode: 'AMB', classDisplay: 'ambulatory', minutes: [15, 40], weight: 4 },
  { code: '390906007', display: 'Follow-up encounter (procedure)', classCode: 'AMB', classDisplay: 'ambulatory', minutes: [15, 30], weight: 3 },
  { code: '448337001', display: 'Telemedicine consultation with patient (procedure)', classCode: 'VR', classDisplay: 'virtual', minutes: [10, 25], weight: 1 },
  { code: '50849002', display: 'Emergency room admission (procedure)', classCode: 'EMER', classDisplay: 'emergency', minutes: [90, 480], weight: 1 },
  { code: '32485007', display: 'Hospital admission (procedure)', classCode: 'IMP', classDisplay: 'inpatient encounter', minutes: [1440, 7200], weight: 1 },
];

export const PROCEDURES: readonly Code[] = [
  { code: '430193006', display: 'Medication Reconciliation (procedure)' },
  { code: '710824005', display: 'Assessment of health and social care needs (procedure)' },
  { code: '171207006', display: 'Depression screening (procedure)' },
  { code: '117015009', display: 'Throat culture (procedure)' },
  { code: '29303009', display: 'Electrocardiographic procedure (procedure)' },
  { code: '399208008', display: 'Plain chest X-ray (procedure)' },
  { code: '73761001', display: 'Colonoscopy (procedure)' },
  { code: '76601001', display: 'Intramuscular injection (procedure)' },
];

export const VACCINES: readonly Code[] = [
  { code: '140', display: 'Influenza, seasonal, injectable, preservative free' },
  { code: '113', display: 'Td (adult) preservative free' },
  { code: '115', display: 'Tdap' },
  { code: '133', display: 'Pneumococcal conjugate PCV 13' },
  { code: '08', display: 'Hep B, adolescent or pediatric' },
  { code: '62', display: 'HPV, quadrivalent' },
  { code: '208', display: 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose' },
];

export interface AllergyCode extends Code {
  category: 'food' | 'medication' | 'environment';
  reaction: Code;
}

export const ALLERGIES: readonly AllergyCode[] = [
  { code: '91936005', display: 'Allergy to penicillin (finding)', category: 'medication', reaction: { code: '271807003', display: 'Eruption of skin (disorder)' } },
  { code: '91935009', display: 'Allergy to peanuts (finding)', category: 'food', reaction: { code: '39579001', display: 'Anaphylaxis (disorder)' } },
  { code: '300916003', display: 'Latex allergy (finding)', category: 'environment', reaction: { code: '247472004', display: 'Wheal (finding)' } },
  { code: '232350006', display: 'House dust mite allergy (finding)', category: 'environment', reaction: { code: '267036007', display: 'Dyspnea (finding)' } },
  { code: '419474003', display: 'Allergy to mould (finding)', category: 'environment', reaction: { code: '49727002', display: 'Cough (finding)' } },
];
