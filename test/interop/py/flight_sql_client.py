"""
A Flight SQL client for the tests: messages from the protobuf runtime (generated from our copies
of FlightSql.proto and Flight.proto's session messages), transport by pyarrow.flight, calls made
in the order the JDBC and ADBC drivers make them.

    python flight_sql_client.py GENERATED_DIR ...   (the generated modules' directory comes first
    on sys.path; `load(generated_dir)` does it for importers)
"""
import sys

import pyarrow as pa
import pyarrow.flight as flight

pb = None
session_pb = None
any_pb2 = None
PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


def load(generated_dir):
    global pb, session_pb, any_pb2
    if generated_dir not in sys.path:
        sys.path.insert(0, generated_dir)
    import flight_sql_subset_pb2 as _pb
    import flight_session_pb2 as _session
    from google.protobuf import any_pb2 as _any

    pb, session_pb, any_pb2 = _pb, _session, _any


def pack(msg):
    a = any_pb2.Any()
    a.Pack(msg, type_url_prefix="type.googleapis.com/")
    return a.SerializeToString()


def unpack(data, cls):
    a = any_pb2.Any()
    a.ParseFromString(data)
    want = PREFIX + cls.DESCRIPTOR.name
    if a.type_url != want:
        raise AssertionError(f"expected {want}, got {a.type_url}")
    msg = cls()
    msg.ParseFromString(a.value)
    return msg


class FlightSqlClient:
    """`headers`: call headers (authorization); `client`: a pyarrow FlightClient."""

    def __init__(self, client, headers=()):
        self.client = client
        self.headers = list(headers)
        self.options = flight.FlightCallOptions(headers=self.headers)

    # ---- plumbing ----

    def info(self, msg):
        return self.client.get_flight_info(flight.FlightDescriptor.for_command(pack(msg)), self.options)

    def schema(self, msg):
        return self.client.get_schema(flight.FlightDescriptor.for_command(pack(msg)), self.options).schema

    def fetch(self, info):
        """Every endpoint's stream, as the drivers read them: the ticket sent back as it came."""
        tables = [self.client.do_get(e.ticket, self.options).read_all() for e in info.endpoints]
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def action(self, kind, body=b""):
        return [r.body.to_pybytes() for r in self.client.do_action(flight.Action(kind, body), self.options)]

    # ---- statements ----

    def execute(self, query):
        return self.fetch(self.info(pb.CommandStatementQuery(query=query)))

    def prepare(self, query):
        [result] = self.action("CreatePreparedStatement", pack(pb.ActionCreatePreparedStatementRequest(query=query)))
        r = unpack(result, pb.ActionCreatePreparedStatementResult)
        dataset = pa.ipc.read_schema(pa.py_buffer(r.dataset_schema)) if r.dataset_schema else None
        params = pa.ipc.read_schema(pa.py_buffer(r.parameter_schema)) if r.parameter_schema else None
        return r.prepared_statement_handle, dataset, params

    def bind(self, handle, batch):
        """DoPut of the parameters; returns the handle the server answers with (or the old one)."""
        descriptor = flight.FlightDescriptor.for_command(pack(pb.CommandPreparedStatementQuery(prepared_statement_handle=handle)))
        writer, reader = self.client.do_put(descriptor, batch.schema, self.options)
        writer.write_batch(batch)
        writer.done_writing()
        answer = reader.read()
        writer.close()
        if answer is None:
            return handle
        result = pb.DoPutPreparedStatementResult()
        result.ParseFromString(answer.to_pybytes())
        return result.prepared_statement_handle if result.HasField("prepared_statement_handle") else handle

    def execute_prepared(self, handle):
        return self.fetch(self.info(pb.CommandPreparedStatementQuery(prepared_statement_handle=handle)))

    def close_prepared(self, handle):
        return self.action("ClosePreparedStatement", pack(pb.ActionClosePreparedStatementRequest(prepared_statement_handle=handle)))

    def execute_update(self, query):
        descriptor = flight.FlightDescriptor.for_command(pack(pb.CommandStatementUpdate(query=query)))
        writer, reader = self.client.do_put(descriptor, pa.schema([]), self.options)
        writer.done_writing()
        answer = reader.read()
        writer.close()
        return answer

    def ingest(self, table_name, table, if_not_exist="CREATE", if_exists="FAIL"):
        opts = pb.CommandStatementIngest.TableDefinitionOptions(
            if_not_exist=getattr(pb.CommandStatementIngest.TableDefinitionOptions, f"TABLE_NOT_EXIST_OPTION_{if_not_exist}"),
            if_exists=getattr(pb.CommandStatementIngest.TableDefinitionOptions, f"TABLE_EXISTS_OPTION_{if_exists}"),
        )
        cmd = pb.CommandStatementIngest(table_definition_options=opts, table=table_name)
        writer, reader = self.client.do_put(flight.FlightDescriptor.for_command(pack(cmd)), table.schema, self.options)
        writer.write_table(table)
        writer.done_writing()
        answer = reader.read()
        writer.close()
        result = pb.DoPutUpdateResult()
        result.ParseFromString(answer.to_pybytes())
        return result.record_count

    def cancel(self, info):
        body = session_pb.CancelFlightInfoRequest(info=info.serialize()).SerializeToString()
        [answer] = self.action("CancelFlightInfo", body)
        r = session_pb.CancelFlightInfoResult()
        r.ParseFromString(answer)
        return r.status

    # ---- metadata ----

    def sql_info(self, ids=()):
        return self.fetch(self.info(pb.CommandGetSqlInfo(info=list(ids))))

    def catalogs(self):
        return self.fetch(self.info(pb.CommandGetCatalogs()))

    def db_schemas(self, catalog=None, pattern=None):
        m = pb.CommandGetDbSchemas()
        if catalog is not None:
            m.catalog = catalog
        if pattern is not None:
            m.db_schema_filter_pattern = pattern
        return self.fetch(self.info(m))

    def tables(self, catalog=None, schema_pattern=None, table_pattern=None, types=(), include_schema=False):
        m = pb.CommandGetTables(table_types=list(types), include_schema=include_schema)
        if catalog is not None:
            m.catalog = catalog
        if schema_pattern is not None:
            m.db_schema_filter_pattern = schema_pattern
        if table_pattern is not None:
            m.table_name_filter_pattern = table_pattern
        return self.fetch(self.info(m))

    def table_types(self):
        return self.fetch(self.info(pb.CommandGetTableTypes()))

    def primary_keys(self, table):
        return self.fetch(self.info(pb.CommandGetPrimaryKeys(table=table)))

    def exported_keys(self, table):
        return self.fetch(self.info(pb.CommandGetExportedKeys(table=table)))

    def imported_keys(self, table):
        return self.fetch(self.info(pb.CommandGetImportedKeys(table=table)))

    def cross_reference(self, pk_table, fk_table):
        return self.fetch(self.info(pb.CommandGetCrossReference(pk_table=pk_table, fk_table=fk_table)))

    def xdbc_type_info(self, data_type=None):
        m = pb.CommandGetXdbcTypeInfo()
        if data_type is not None:
            m.data_type = data_type
        return self.fetch(self.info(m))

    # ---- session options ----

    def set_session_options(self, **options):
        req = session_pb.SetSessionOptionsRequest()
        for k, v in options.items():
            req.session_options[k].string_value = v
        [answer] = self.action("SetSessionOptions", req.SerializeToString())
        r = session_pb.SetSessionOptionsResult()
        r.ParseFromString(answer)
        return {k: e.value for k, e in r.errors.items()}

    def get_session_options(self):
        [answer] = self.action("GetSessionOptions", session_pb.GetSessionOptionsRequest().SerializeToString())
        r = session_pb.GetSessionOptionsResult()
        r.ParseFromString(answer)
        return {k: v.string_value for k, v in r.session_options.items()}

    def close_session(self):
        [answer] = self.action("CloseSession", session_pb.CloseSessionRequest().SerializeToString())
        r = session_pb.CloseSessionResult()
        r.ParseFromString(answer)
        return r.status
