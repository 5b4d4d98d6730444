/// What a crash state owes each file (issue 11): the epoch it cuts ended during one step, so every file must
/// hold, block by block, what was durable before that step or what it held after it. Data and size made
/// durable before the step must be there; a file never made durable may be missing. The same promise a
/// power cut has (`ContentModel.powerCut`), taken at every flush instead of once.
public enum CrashExpectation {
    /// `before`: the model before the step (its durable content is what must survive); `after`: the model
    /// after it. Files the step removed are not checked: whether their name survives is not promised.
    public static func expected(before: ContentModel, after: ContentModel) -> [(file: String, expected: ContentModel.Expected)] {
        let old = before.files, new = after.files
        return after.fileNames.map { file in
            let durable = old[file]?.durable
            let content = new[file]!.content
            return (file, durable == content ? .exact(content) : .either(old: durable, new: content))
        }
    }

    /// The snapshot pair a log position falls between: `positions[k]` is the log length when snapshot k was
    /// taken (ascending). Returns (k, k+1) for the last k with positions[k] <= position, or (k, k) past the last.
    public static func window(of position: Int, in positions: [Int]) -> (before: Int, after: Int)? {
        guard let k = positions.lastIndex(where: { $0 <= position }) else { return nil }
        return (k, min(k + 1, positions.count - 1))
    }
}
