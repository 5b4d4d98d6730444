import Foundation
import XCTest
@testable import RegressCore

/// The LAVA job's text, without LAVA: every outside value stays one quoted scalar. lava_common's own schema
/// validates generated jobs in Tests/IntegrationTests/FarmIntegrationTests.swift.
final class LAVAJobTests: XCTestCase {
    func job() -> LAVAJob {
        var job = LAVAJob(kernelURL: "https://lab.example/k/bzImage", repository: "https://git.example/regress.git")
        job.rootfsURL = "https://lab.example/rootfs.ext4.xz"
        job.shard = "2/3"
        job.tests = ["nocow-reflink", "punch-next-to-hole-fsync"]
        return job
    }

    func testTheJobNamesItsImagesDefinitionAndParameters() {
        let text = job().render()
        XCTAssertTrue(text.contains("job_name: \"regress nocow-reflink punch-next-to-hole-fsync shard 2/3 on bzImage\"\n"), text)
        XCTAssertTrue(text.contains("device_type: \"qemu\"\n"))
        XCTAssertTrue(text.contains("    to: tmpfs\n"))
        XCTAssertTrue(text.contains("        url: \"https://lab.example/rootfs.ext4.xz\"\n        compression: xz\n"), text)
        XCTAssertTrue(text.contains("    method: qemu\n    media: tmpfs\n"))
        XCTAssertTrue(text.contains("      path: lava/regress.yaml\n"))
        XCTAssertTrue(text.contains("        TESTS: \"nocow-reflink punch-next-to-hole-fsync\"\n"))
        XCTAssertTrue(text.contains("        SHARD: \"2/3\"\n"))
    }

    func testWithoutARootfsOnlyTheKernelIsDeployed() {
        var job = job()
        job.rootfsURL = nil
        XCTAssertFalse(job.render().contains("rootfs:"))
    }

    func testAnInitrdPromptsAndNoLoginForAnImageThatStartsAShell() {
        var job = job()
        job.initrdURL = "https://lab.example/initrd.img"
        job.prompts = ["bash-5.2#"]
        job.login = nil
        job.kernelArguments = "console=ttyS0 root=/dev/vda rw init=/bin/bash"
        let text = job.render()
        XCTAssertTrue(text.contains("      initrd:\n        image_arg: \"-initrd {initrd}\"\n        url: \"https://lab.example/initrd.img\"\n"), text)
        XCTAssertTrue(text.contains("    prompts:\n    - \"bash-5.2#\"\n- test:"), text)
        XCTAssertFalse(text.contains("auto_login"))
        XCTAssertTrue(text.contains("-append \\\"console=ttyS0 root=/dev/vda rw init=/bin/bash\\\"\""), text)
    }

    func testAHostileValueStaysOneScalar() {
        var job = job()
        job.kernelURL = "https://x/\"\n- boot:\n    method: evil\\"
        job.revision = "main\"\r\n\u{0}\u{85}\u{2028}"
        let text = job.render()
        XCTAssertFalse(text.contains("method: evil\n"))
        XCTAssertTrue(text.contains("url: \"https://x/\\\"\\n- boot:\\n    method: evil\\\\\"\n"), text)
        XCTAssertTrue(text.contains("revision: \"main\\\"\\u000d\\n\\u0000\\u0085\\u2028\"\n"), text)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("- ") }.count, 3, "deploy, boot and test, nothing more")
    }

    func testCompressionFollowsTheURLsSuffix() {
        XCTAssertEqual(LAVAJob.compression(of: "https://x/rootfs.img.gz"), "gz")
        XCTAssertEqual(LAVAJob.compression(of: "https://x/rootfs.img.zst?token=1"), "zstd")
        XCTAssertNil(LAVAJob.compression(of: "https://x/rootfs.img"))
    }

    func testTheJobNameFitsLAVAsLimit() {
        var job = job()
        job.tests = Array(repeating: "a-rather-long-test-name", count: 40)
        XCTAssertLessThanOrEqual(job.jobName.count, 200)
    }
}
