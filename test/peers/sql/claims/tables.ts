/**
 * The claims warehouse layout documented in docs/sources/claims-layout.md, in FK order (parents
 * first, so tables can be created and filled in this order).
 */
import { table, type Table } from '../table';

const fk = (columns: string[], target: string, references = columns) => ({ columns, table: target, references });

export const CLAIMS_TABLES: Table[] = [
  table('payer', {
    columns: `payer_id vc16!, payer_name vc100!, payer_type vc16!`,
    primaryKey: ['payer_id'],
  }),
  table('member', {
    columns: `member_id vc20!, last_name vc100!, first_name vc100, middle_name vc100, name_prefix vc20,
      birth_date date!, death_date date, sex ch1!, ssn ch11, address_line1 vc200, address_line2 vc200,
      city vc100, state vc50, zip_code vc10, phone vc30`,
    primaryKey: ['member_id'],
    indexes: [['last_name', 'first_name'], ['birth_date'], ['ssn']],
  }),
  table('member_xref', {
    columns: `member_id vc20!, source_system vc200!, source_id vc64!`,
    primaryKey: ['source_system', 'source_id'],
    foreignKeys: [fk(['member_id'], 'member')],
    indexes: [['member_id']],
  }),
  table('eligibility', {
    columns: `eligibility_id int!, member_id vc20!, payer_id vc16!, plan_code vc20!, plan_name vc100!,
      subscriber_id vc30!, relationship_code vc2!, start_date date!, end_date date`,
    primaryKey: ['eligibility_id'],
    foreignKeys: [fk(['member_id'], 'member'), fk(['payer_id'], 'payer')],
    indexes: [['member_id', 'start_date'], ['payer_id']],
  }),
  table('provider', {
    columns: `provider_id int!, provider_kind vc12!, npi vc10, source_id vc64!, organization_name vc200,
      last_name vc100, first_name vc100, name_prefix vc20, gender ch1, address_line1 vc200, city vc100,
      state vc50, zip_code vc10, phone vc30`,
    primaryKey: ['provider_id'],
    unique: [['source_id']],
    indexes: [['npi']],
  }),
  table('claim_header', {
    columns: `claim_id vc64!, member_id vc20!, claim_type vc16!, claim_status vc16!, payer_id vc16!,
      eligibility_id int, billing_provider_id int!, rendering_provider_id int, from_date date!, thru_date date!,
      received_date date!, place_of_service_code vc2, encounter_ref vc64, total_billed money!,
      total_allowed money, total_paid money`,
    primaryKey: ['claim_id'],
    foreignKeys: [
      fk(['member_id'], 'member'),
      fk(['payer_id'], 'payer'),
      fk(['eligibility_id'], 'eligibility'),
      fk(['billing_provider_id'], 'provider', ['provider_id']),
      fk(['rendering_provider_id'], 'provider', ['provider_id']),
    ],
    indexes: [['member_id', 'from_date'], ['claim_type'], ['billing_provider_id'], ['rendering_provider_id'], ['from_date']],
  }),
  table('claim_diagnosis', {
    columns: `claim_id vc64!, dx_sequence smallint!, dx_code vc20!, dx_code_system vc10!, dx_description vc255,
      dx_type vc16!, present_on_admission ch1`,
    primaryKey: ['claim_id', 'dx_sequence'],
    foreignKeys: [fk(['claim_id'], 'claim_header')],
    indexes: [['dx_code', 'dx_code_system']],
  }),
  table('claim_line', {
    columns: `claim_id vc64!, line_number smallint!, service_from_date date!, service_thru_date date!,
      revenue_code vc4, procedure_code vc20!, procedure_code_system vc10!, procedure_description vc255,
      modifier_1 vc2, dx_pointer_1 smallint, dx_pointer_2 smallint, dx_pointer_3 smallint, dx_pointer_4 smallint,
      units qty!, billed_amount money!, allowed_amount money, paid_amount money, coinsurance_amount money,
      deductible_amount money, place_of_service_code vc2`,
    primaryKey: ['claim_id', 'line_number'],
    foreignKeys: [fk(['claim_id'], 'claim_header')],
    indexes: [['procedure_code', 'procedure_code_system'], ['service_from_date']],
  }),
  table('rx_claim', {
    columns: `claim_id vc64!, rx_number vc64!, fill_date date!, ndc_code vc11, rxnorm_code vc20, drug_name vc255,
      quantity_dispensed qty, days_supply int, refill_number smallint, prescriber_provider_id int,
      billed_amount money!, allowed_amount money, paid_amount money`,
    primaryKey: ['claim_id'],
    foreignKeys: [fk(['claim_id'], 'claim_header'), fk(['prescriber_provider_id'], 'provider', ['provider_id'])],
    indexes: [['rxnorm_code'], ['ndc_code'], ['fill_date']],
  }),
  table('eob', {
    columns: `eob_id vc64!, claim_id vc64!, payer_id vc16!, outcome vc10!, adjudication_date date!, payment_date date,
      benefit_period_start date, benefit_period_end date, total_submitted money!, total_allowed money,
      total_paid money!, member_coinsurance money, member_deductible money`,
    primaryKey: ['eob_id'],
    unique: [['claim_id']],
    foreignKeys: [fk(['claim_id'], 'claim_header'), fk(['payer_id'], 'payer')],
    indexes: [['payer_id'], ['adjudication_date']],
  }),
];
