import { createFileRegistry, type DescFile, type DescService, type FileRegistry, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** A reflection request's question; v1 and v1alpha share the shape. */
type Question =
  | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: undefined; value?: undefined };

/** A reflection response's answer; v1 and v1alpha share the shape. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * What reflection knows: the files of the served services and their imports
 * (well-known types included), built from the descriptors embedded in the
 * generated code. Nothing else is visible, so reflection lists only what is served.
 */
export class ReflectionIndex {
  readonly serviceNames: string[];
  private readonly registry: FileRegistry;
  private readonly encoded = new Map<string, Uint8Array>();

  constructor(services: DescService[]) {
    this.serviceNames = [...new Set(services.map((s) => s.typeName))].sort();
    const known = new Map<string, DescFile>();
    const collect = (file: DescFile) => {
      if (known.has(file.proto.name)) return;
      known.set(file.proto.name, file);
      file.dependencies.forEach(collect);
    };
    services.forEach((s) => collect(s.file));
    const roots = [...new Set(services.map((s) => s.file))];
    this.registry = createFileRegistry(...roots.map((f) => createFileRegistry(f.proto, (name) => known.get(name))));
  }

  /** Answers one question; `sent` holds the files this stream already received. */
  answer(question: Question, sent: Set<string>): Answer {
    switch (question.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.serviceNames.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.files(this.registry.getFile(question.value), `file ${JSON.stringify(question.value)}`, sent);
      case "fileContainingSymbol":
        return this.files(this.fileOfSymbol(question.value), `symbol ${JSON.stringify(question.value)}`, sent);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = question.value;
        const extendee = this.registry.getMessage(containingType);
        const extension = extendee && this.registry.getExtensionFor(extendee, extensionNumber);
        return this.files(extension?.file, `extension ${extensionNumber} of ${JSON.stringify(containingType)}`, sent);
      }
      case "allExtensionNumbersOfType": {
        if (!this.registry.getMessage(question.value)) return notFound(`type ${JSON.stringify(question.value)}`);
        const numbers: number[] = [];
        for (const desc of this.registry) {
          if (desc.kind === "extension" && desc.extendee.typeName === question.value) numbers.push(desc.number);
        }
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: question.value, extensionNumber: numbers } };
      }
      default:
        throw new ConnectError("message_request: one of its fields must be set", Code.InvalidArgument);
    }
  }

  /** The file declaring a type, service, method, field or enum value. */
  private fileOfSymbol(symbol: string): DescFile | undefined {
    const found = this.registry.get(symbol);
    if (found) return found.file;
    const dot = symbol.lastIndexOf(".");
    const parent = dot > 0 ? this.registry.get(symbol.slice(0, dot)) : undefined;
    const member = symbol.slice(dot + 1);
    switch (parent?.kind) {
      case "service":
        return parent.methods.some((m) => m.name === member) ? parent.file : undefined;
      case "message": {
        // Map entries are nested types of the descriptor, but no registered message.
        const declared = [...parent.fields, ...parent.oneofs, ...parent.proto.nestedType].some((d) => d.name === member);
        return declared ? parent.file : undefined;
      }
      case "enum":
        return parent.values.some((v) => v.name === member) ? parent.file : undefined;
      default:
        return undefined;
    }
  }

  /**
   * The file and its transitive imports, serialized. As in the reference
   * implementation, imports this stream already received are left out; the
   * requested file is always sent.
   */
  private files(file: DescFile | undefined, what: string, sent: Set<string>): Answer {
    if (!file) return notFound(what);
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const queue = [file];
    for (let next = queue.shift(); next; next = queue.shift()) {
      const name = next.proto.name;
      if (seen.has(name)) continue;
      seen.add(name);
      if (out.length === 0 || !sent.has(name)) {
        sent.add(name);
        out.push(this.encode(next));
      }
      queue.push(...next.dependencies);
    }
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file.proto.name);
    if (!bytes) this.encoded.set(file.proto.name, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  }
}

function notFound(what: string): Answer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

/** The bidi stream both reflection versions serve: one answer per question, in order. */
function reflectionInfo(index: ReflectionIndex) {
  return async function* (requests: AsyncIterable<{ host: string; messageRequest: Question }>) {
    const sent = new Set<string>();
    for await (const req of requests) {
      yield {
        validHost: req.host,
        originalRequest: { host: req.host, messageRequest: req.messageRequest },
        messageResponse: index.answer(req.messageRequest, sent),
      };
    }
  };
}

/**
 * Registers grpc.reflection.v1 and v1alpha ServerReflection, describing
 * `services` and themselves. Pass every other service the router serves.
 */
export function reflectionServices(services: DescService[]): (router: ConnectRouter) => void {
  const index = new ReflectionIndex([...services, ServerReflectionV1, ServerReflectionV1alpha]);
  return (router) => {
    router.service(ServerReflectionV1, { serverReflectionInfo: reflectionInfo(index) });
    router.service(ServerReflectionV1alpha, { serverReflectionInfo: reflectionInfo(index) });
  };
}
