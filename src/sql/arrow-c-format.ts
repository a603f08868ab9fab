/**
 * Arrow types as the Arrow C data interface spells them (format strings, e.g. `l` for int64,
 * `tsu:UTC` for a microsecond timestamp in UTC), both ways: datasets' schemas go to DuckDB in
 * that form, and DuckDB's result schemas come back in it.
 */
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Decimal, Duration, Field, FixedSizeBinary, FixedSizeList, Float16, Float32, Float64,
  Int16, Int32, Int64, Int8, IntervalDayTime, IntervalMonthDayNano, IntervalYearMonth, LargeBinary, LargeList, LargeUtf8, List, Map_, Null,
  Schema, Struct, Time, TimeUnit, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8, DateUnit, IntervalUnit,
} from 'apache-arrow';
import type { CField } from './native.js';

const UNIT_LETTER: Record<TimeUnit, string> = { [TimeUnit.SECOND]: 's', [TimeUnit.MILLISECOND]: 'm', [TimeUnit.MICROSECOND]: 'u', [TimeUnit.NANOSECOND]: 'n' };
const LETTER_UNIT: Record<string, TimeUnit> = { s: TimeUnit.SECOND, m: TimeUnit.MILLISECOND, u: TimeUnit.MICROSECOND, n: TimeUnit.NANOSECOND };

/** Why a type cannot go to the engine, or undefined when it can. */
export class UnsupportedType extends Error {}

/** The C format of an Arrow JS type; throws UnsupportedType for dictionaries, unions and views. */
export function formatOf(type: DataType, name: string): string {
  if (DataType.isNull(type)) return 'n';
  if (DataType.isBool(type)) return 'b';
  if (DataType.isInt(type)) {
    const letter = ({ 8: 'c', 16: 's', 32: 'i', 64: 'l' } as Record<number, string>)[type.bitWidth]!;
    return type.isSigned ? letter : letter.toUpperCase();
  }
  if (DataType.isFloat(type)) return ['e', 'f', 'g'][type.precision]!;
  if (DataType.isUtf8(type)) return 'u';
  if (DataType.isLargeUtf8(type)) return 'U';
  if (DataType.isBinary(type)) return 'z';
  if (DataType.isLargeBinary(type)) return 'Z';
  if (DataType.isFixedSizeBinary(type)) return `w:${type.byteWidth}`;
  if (DataType.isDecimal(type)) return type.bitWidth === 128 ? `d:${type.precision},${type.scale}` : `d:${type.precision},${type.scale},${type.bitWidth}`;
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 'tdD' : 'tdm';
  if (DataType.isTime(type)) return `tt${UNIT_LETTER[type.unit]}`;
  if (DataType.isTimestamp(type)) return `ts${UNIT_LETTER[type.unit]}:${type.timezone ?? ''}`;
  if (DataType.isDuration(type)) return `tD${UNIT_LETTER[type.unit]}`;
  if (DataType.isInterval(type)) return ({ [IntervalUnit.YEAR_MONTH]: 'tiM', [IntervalUnit.DAY_TIME]: 'tiD', [IntervalUnit.MONTH_DAY_NANO]: 'tin' } as Record<number, string>)[type.unit]!;
  if (DataType.isList(type)) return '+l';
  if (DataType.isLargeList(type)) return '+L';
  if (DataType.isFixedSizeList(type)) return `+w:${type.listSize}`;
  if (DataType.isStruct(type)) return '+s';
  if (DataType.isMap(type)) return '+m';
  const kind = DataType.isDictionary(type) ? 'dictionary-encoded' : DataType.isUnion(type) ? 'union' : String(type);
  throw new UnsupportedType(`column "${name}" is ${kind}, which the SQL engine cannot read yet`);
}

export function cFieldOf(field: Field): CField {
  const type = field.type;
  if (DataType.isDictionary(type)) {
    // The format is the indices'; the values are a field of their own, with the dictionary's id.
    const values = new Field('', type.dictionary, true);
    return {
      format: formatOf(type.indices, field.name),
      name: field.name,
      nullable: field.nullable,
      children: [],
      dictionary: cFieldOf(values),
      dictionaryId: Number(type.id),
    };
  }
  return {
    format: formatOf(type, field.name),
    name: field.name,
    nullable: field.nullable,
    children: (type.children ?? []).map((c: Field) => cFieldOf(c)),
  };
}

/** The root struct of a schema, as the engine's scan takes it. */
export function cSchemaOf(schema: Schema): CField {
  return { format: '+s', name: '', nullable: false, children: schema.fields.map(cFieldOf) };
}

/** An Arrow JS field from a C description (DuckDB's result columns). */
export function fieldOf(c: CField): Field {
  const metadata = c.metadata?.length ? new Map(c.metadata.map(([k, v]) => [k, v])) : undefined;
  return new Field(c.name, typeOf(c), c.nullable, metadata);
}

export function schemaOf(fields: readonly CField[]): Schema {
  return new Schema(fields.map(fieldOf));
}

function typeOf(c: CField): DataType {
  const f = c.format;
  const kids = (): Field[] => c.children.map(fieldOf);
  if (c.dictionary) throw new UnsupportedType(`result column "${c.name}" is dictionary-encoded; cast it to VARCHAR`);
  switch (f) {
    case 'n': return new Null();
    case 'b': return new Bool();
    case 'c': return new Int8();
    case 'C': return new Uint8();
    case 's': return new Int16();
    case 'S': return new Uint16();
    case 'i': return new Int32();
    case 'I': return new Uint32();
    case 'l': return new Int64();
    case 'L': return new Uint64();
    case 'e': return new Float16();
    case 'f': return new Float32();
    case 'g': return new Float64();
    case 'u': return new Utf8();
    case 'U': return new LargeUtf8();
    case 'z': return new Binary();
    case 'Z': return new LargeBinary();
    case 'tdD': return new DateDay();
    case 'tdm': return new DateMillisecond();
    case 'tiM': return new IntervalYearMonth();
    case 'tiD': return new IntervalDayTime();
    case 'tin': return new IntervalMonthDayNano();
    case '+l': return new List(kids()[0]!);
    case '+L': return new LargeList(kids()[0]!);
    case '+s': return new Struct(kids());
    case '+m': return new Map_(kids()[0]! as Field<Struct>);
    default: break;
  }
  if (f.startsWith('w:')) return new FixedSizeBinary(Number(f.slice(2)));
  if (f.startsWith('+w:')) return new FixedSizeList(Number(f.slice(3)), kids()[0]!);
  if (f.startsWith('d:')) {
    const [p, s, w] = f.slice(2).split(',').map(Number);
    return new Decimal(s!, p!, w ?? 128);
  }
  if (f.startsWith('tt') && LETTER_UNIT[f[2]!] !== undefined) {
    const unit = LETTER_UNIT[f[2]!]!;
    return new Time(unit, unit === TimeUnit.SECOND || unit === TimeUnit.MILLISECOND ? 32 : 64);
  }
  if (f.startsWith('ts') && f[3] === ':' && LETTER_UNIT[f[2]!] !== undefined) return new Timestamp(LETTER_UNIT[f[2]!]!, f.slice(4) || null);
  if (f.startsWith('tD') && LETTER_UNIT[f[2]!] !== undefined) return new Duration(LETTER_UNIT[f[2]!]!);
  throw new UnsupportedType(`result column "${c.name}" has Arrow type ${f}, which flightgate cannot send yet`);
}
