/// Evaluates the integer expressions reproducers put in `$((…))`: `+ - * / %`, `<< >>`, parentheses,
/// unary minus, decimal and `0x` numbers, and variable names (bare or with `$`). Nil for anything else,
/// so that the caller keeps the text as written and says so.
public enum ShellArithmetic {
    public static func evaluate(_ expression: String, variables: [String: String]) -> Int? {
        var parser = Parser(tokens: tokenize(expression), variables: variables)
        guard let tokens = parser.tokens, let value = parser.parseShift(), parser.index == tokens.count else { return nil }
        return value
    }

    /// `a <= b`, `a < b`, `a >= b`, `a > b`, `a == b`, `a != b` over integer expressions; a bare
    /// expression holds when it is not zero.
    public static func compare(_ text: String, variables: [String: String]) -> Bool? {
        for op in ["<=", ">=", "==", "!=", "<", ">"] {
            guard let range = text.firstRange(of: op) else { continue }
            guard let left = evaluate(String(text[..<range.lowerBound]), variables: variables),
                  let right = evaluate(String(text[range.upperBound...]), variables: variables) else { return nil }
            switch op {
            case "<=": return left <= right
            case ">=": return left >= right
            case "==": return left == right
            case "!=": return left != right
            case "<": return left < right
            default: return left > right
            }
        }
        return evaluate(text, variables: variables).map { $0 != 0 }
    }

    private static func tokenize(_ text: String) -> [String]? {
        var tokens: [String] = []
        var characters = Array(text)[...]
        while let first = characters.first {
            if first == " " || first == "\t" || first == "\n" { characters.removeFirst(); continue }
            if first.isLetter || first.isNumber || first == "_" || first == "$" {
                var word = ""
                while let next = characters.first, next.isLetter || next.isNumber || next == "_" || (next == "$" && word.isEmpty) {
                    word.append(next)
                    characters.removeFirst()
                }
                tokens.append(word)
                continue
            }
            let pair = String(characters.prefix(2))
            if pair == "<<" || pair == ">>" || pair == "**" {
                tokens.append(pair)
                characters.removeFirst(2)
                continue
            }
            guard "+-*/%()".contains(first) else { return nil }
            tokens.append(String(first))
            characters.removeFirst()
        }
        return tokens
    }

    private struct Parser {
        var tokens: [String]?
        var variables: [String: String]
        var index = 0

        init(tokens: [String]?, variables: [String: String]) {
            self.tokens = tokens
            self.variables = variables
        }

        var current: String? {
            guard let tokens, index < tokens.count else { return nil }
            return tokens[index]
        }

        mutating func parseShift() -> Int? {
            guard var value = parseSum() else { return nil }
            while let op = current, op == "<<" || op == ">>" {
                index += 1
                guard let right = parseSum(), right >= 0, right < 63 else { return nil }
                value = op == "<<" ? value << right : value >> right
            }
            return value
        }

        mutating func parseSum() -> Int? {
            guard var value = parseProduct() else { return nil }
            while let op = current, op == "+" || op == "-" {
                index += 1
                guard let right = parseProduct() else { return nil }
                let (result, overflow) = op == "+" ? value.addingReportingOverflow(right) : value.subtractingReportingOverflow(right)
                guard !overflow else { return nil }
                value = result
            }
            return value
        }

        mutating func parseProduct() -> Int? {
            guard var value = parsePower() else { return nil }
            while let op = current, op == "*" || op == "/" || op == "%" {
                index += 1
                guard let right = parsePower() else { return nil }
                switch op {
                case "*":
                    let (result, overflow) = value.multipliedReportingOverflow(by: right)
                    guard !overflow else { return nil }
                    value = result
                case "/":
                    let (result, overflow) = value.dividedReportingOverflow(by: right)
                    guard right != 0, !overflow else { return nil }
                    value = result
                default:
                    let (result, overflow) = value.remainderReportingOverflow(dividingBy: right)
                    guard right != 0, !overflow else { return nil }
                    value = result
                }
            }
            return value
        }

        /// `a ** b`, right-associative and above `*`, as bash has it (`2**$i`); a negative exponent is an error.
        mutating func parsePower() -> Int? {
            guard let base = parseUnary() else { return nil }
            guard current == "**" else { return base }
            index += 1
            guard let exponent = parsePower(), exponent >= 0 else { return nil }
            var result = 1
            for _ in 0..<min(exponent, 64) {
                let (product, overflow) = result.multipliedReportingOverflow(by: base)
                guard !overflow else { return nil }
                result = product
            }
            return result
        }

        mutating func parseUnary() -> Int? {
            if current == "-" {
                index += 1
                guard let value = parseUnary() else { return nil }
                let (negated, overflow) = 0.subtractingReportingOverflow(value)
                return overflow ? nil : negated
            }
            if current == "+" {
                index += 1
                return parseUnary()
            }
            if current == "(" {
                index += 1
                let value = parseShift()
                guard current == ")" else { return nil }
                index += 1
                return value
            }
            guard let token = current else { return nil }
            index += 1
            if let number = ShellArithmetic.number(token) { return number }
            let name = token.hasPrefix("$") ? String(token.dropFirst()) : token
            guard let value = variables[name] else { return nil }
            return ShellArithmetic.number(value.trimmingBlanks)
        }
    }

    static func number(_ text: String) -> Int? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return Int(text.dropFirst(2), radix: 16) }
        return Int(text)
    }
}

extension String {
    var trimmingBlanks: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\n" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\n" { text.removeLast() }
        return String(text)
    }
}
